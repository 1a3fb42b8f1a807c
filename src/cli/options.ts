/**
 * The option parser of the subcommands that take repeatable options and flags (`clients`,
 * `users`): `--name value` or `--name=value`, flags, positionals, and `--` before positionals that
 * start with `-` (a client id). A usage error is a `UsageError` (the command answers exit 2).
 */
export class UsageError extends Error {}

export interface Parsed {
  positional: string[];
  options: Map<string, string[]>;
  flags: Set<string>;
}

/** Parses `args`; `refuse` may throw a UsageError for an option name it forbids (a password on the command line). */
export function parseOptions(args: string[], valueOptions: ReadonlySet<string>, flagOptions: ReadonlySet<string>, refuse?: (name: string) => void): Parsed {
  const parsed: Parsed = { positional: [], options: new Map(), flags: new Set() };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const name = a.split('=')[0];
    if (a === '--') {
      // Everything after '--' is positional (a client id registered before ids avoided a leading '-').
      parsed.positional.push(...args.slice(i + 1));
      break;
    }
    refuse?.(name);
    if (valueOptions.has(name)) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[++i];
      if (v === undefined) {
        throw new UsageError(`${name} needs a value`);
      }
      parsed.options.set(name, [...(parsed.options.get(name) ?? []), v]);
    } else if (flagOptions.has(a)) {
      parsed.flags.add(a);
    } else if (a.startsWith('-')) {
      throw new UsageError(`Unknown option '${a}'`);
    } else {
      parsed.positional.push(a);
    }
  }
  return parsed;
}

/** The one value of an option (a usage error when given twice). */
export function one(p: Parsed, name: string): string | undefined {
  const v = p.options.get(name);
  if (v && v.length > 1) {
    throw new UsageError(`${name} may be given once`);
  }
  return v?.[0];
}
