/**
 * `peerbridge config [--json] [--all]`: the effective configuration, every variable the server
 * reads (src/cli/config-registry.ts) as `NAME=value  (source)`, where source is `env` (set in the
 * environment), `default` (the schema's default) or `unset`; secrets masked (a URL's password,
 * key material). A value the schema refuses is shown with the reason, and the exit code is 1.
 */
import { effectiveConfig } from './config-registry';

const USAGE = `Usage: peerbridge config [--json] [--all]

Prints the effective configuration: every environment variable the server reads, as NAME=value
with its source (env: set in the environment; default: the built-in default; unset: no value, the
feature's own fallback applies). Secrets are masked (the password of DATABASE_URL, key material).
Every variable is described in docs/configuration.md.

Options:
  --json      one JSON array of {name, group, value, source[, error]}
  --all       also the development variables (scripts and tests)
  -h, --help  this help

Exit codes: 0 the configuration is valid, 1 a variable's value is refused (shown with the reason), 2 usage.
`;

/** Runs `config`; returns the exit code. `env` defaults to process.env. */
export function configCommand(
  args: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
  env: Record<string, string | undefined> = process.env,
): number {
  let json = false;
  let all = false;
  for (const a of args) {
    if (a === '--json') json = true;
    else if (a === '--all') all = true;
    else if (a === '--help' || a === '-h') {
      out.write(USAGE);
      return 0;
    } else {
      err.write(`Unknown option '${a}'\n${USAGE}`);
      return 2;
    }
  }
  const settings = effectiveConfig(env, { all });
  const bad = settings.filter((s) => s.error !== undefined);
  if (json) {
    out.write(`${JSON.stringify(settings, null, 2)}\n`);
  } else {
    const width = Math.max(...settings.map((s) => s.name.length + 1 + s.value.length));
    for (const s of settings) {
      const pair = `${s.name}=${s.value}`;
      out.write(`${pair.padEnd(width)}  (${s.source}${s.error ? `, invalid: ${s.error}` : ''})\n`);
    }
  }
  if (bad.length > 0) {
    err.write(`Invalid configuration: ${bad.map((s) => `${s.name}: ${s.error}`).join('; ')}\n`);
    return 1;
  }
  return 0;
}
