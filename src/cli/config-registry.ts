/**
 * Every environment variable PeerBridge reads, in one registry (issue 16 item 2): the zod schemas
 * of the server (src/config), auth (src/auth/config.ts), Bulk Data export (src/export/config.ts),
 * the definitions and package caches, and the development-only variables of scripts and tests.
 * Each module still parses its own schema where it opens (so its error messages are unchanged);
 * this registry puts them together for `peerbridge config` (the effective configuration, secrets
 * masked) and for docs/configuration.md (`npm run build:config-docs`), both read from the
 * schemas' `.describe()` text, types and defaults.
 */
import { z } from 'zod';
import { AuthConfigSchema } from '../auth/config';
import { ExportConfigSchema } from '../export/config';
import { ConfigSchema, PathsConfigSchema } from '../config';

export interface ConfigGroup {
  name: string;
  title: string;
  /** One paragraph about the group, for the docs. */
  about: string;
  schema: z.ZodObject;
  /** false: read by scripts and tests only; documented, not printed by `peerbridge config`. */
  runtime: boolean;
}

/** Variables read by the build scripts and tests only (never by the server). */
export const DevelopmentConfigSchema = z.object({
  PEERBRIDGE_TEST_PG: z
    .string()
    .optional()
    .describe(
      'Tests: the PostgreSQL server the store tests use (each test file creates and drops a database of its own); `off` runs PGlite only. Unset: postgres://postgres@127.0.0.1:5432/postgres when it answers, else the PostgreSQL cases are skipped with a notice.',
    ),
  UPDATE_GOLDEN: z
    .string()
    .optional()
    .describe('Tests: `1` rewrites the golden files of test/pipeline and test/translate instead of comparing (review the diff).'),
  UPDATE_VALIDATION_OUTCOMES: z.string().optional().describe('Tests: `1` rewrites the recorded validator outcomes of test/validation/equivalence.test.ts.'),
  PEERBRIDGE_KEEP_SUSHI_PROJECT: z.string().optional().describe('`npm run build:profiles`: any value keeps the temporary SUSHI project folder for inspection.'),
});

export const CONFIG_GROUPS: readonly ConfigGroup[] = [
  {
    name: 'server',
    title: 'Server',
    about: 'The HTTP server, the store, validation, outside sources, HL7 v2 over MLLP, logs and metrics (src/config).',
    schema: ConfigSchema,
    runtime: true,
  },
  {
    name: 'auth',
    title: 'Authentication and rate limits',
    about: 'SMART Backend Services: the token endpoint, access tokens, client keys and rate limits (src/auth/config.ts).',
    schema: AuthConfigSchema,
    runtime: true,
  },
  {
    name: 'export',
    title: 'Bulk Data export',
    about: 'Jobs of `$export` and their files (src/export/config.ts).',
    schema: ExportConfigSchema,
    runtime: true,
  },
  {
    name: 'paths',
    title: 'Definitions and package caches',
    about: 'Where the validator keeps its compiled definitions and finds FHIR packages; read by the server and every command.',
    schema: PathsConfigSchema,
    runtime: true,
  },
  {
    name: 'development',
    title: 'Development (scripts and tests only)',
    about: 'Read by the build scripts and the test suite, never by the server.',
    schema: DevelopmentConfigSchema,
    runtime: false,
  },
];

export interface VariableInfo {
  name: string;
  group: ConfigGroup;
  description: string;
  /** Human type: `integer 0..65535`, `URL`, `one of: debug, info`, ... */
  type: string;
  /** The default as the variable would be written (`8080`), or undefined when there is none. */
  defaultValue?: string;
  schema: z.ZodType;
}

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  defaultValue?: unknown;
  entries?: Record<string, string>;
  checks?: Array<{ _zod: { def: { check: string; value?: unknown; format?: string; inclusive?: boolean } } }>;
  format?: string;
}

function defOf(s: z.ZodType): Def {
  return (s as unknown as { _zod: { def: Def } })._zod.def;
}

/** The default of a field (through `.describe()`, `.optional()`, pipes), if any. */
function defaultOf(s: z.ZodType): unknown {
  const d = defOf(s);
  if (d.type === 'default') return typeof d.defaultValue === 'function' ? (d.defaultValue as () => unknown)() : d.defaultValue;
  if (d.type === 'optional' || d.type === 'nullable') return d.innerType ? defaultOf(d.innerType) : undefined;
  if (d.type === 'pipe') return d.in ? defaultOf(d.in) : undefined;
  return undefined;
}

/** The type of a field as a reader would write it. */
function typeOf(s: z.ZodType): string {
  const d = defOf(s);
  switch (d.type) {
    case 'default':
    case 'optional':
    case 'nullable':
      return d.innerType ? typeOf(d.innerType) : 'text';
    case 'pipe': {
      // preprocess: the output says the type; transform: the input does.
      const out = d.out ? defOf(d.out).type : '';
      return out === 'transform' || !d.out ? (d.in ? typeOf(d.in) : 'text') : typeOf(d.out);
    }
    case 'enum': {
      const values = Object.values(d.entries ?? {});
      return values.every((v) => /^(true|false|1|0|)$/.test(v)) ? 'true/false' : `one of: ${values.join(', ')}`;
    }
    case 'number': {
      const checks = (d.checks ?? []).map((c) => c._zod.def);
      const isInt = d.format === 'safeint' || checks.some((c) => c.format === 'safeint');
      const min = checks.find((c) => c.check === 'greater_than');
      const max = checks.find((c) => c.check === 'less_than');
      // Exclusive minimums (`.positive()`): the least integer above, or `> n` for decimals.
      const lo = min === undefined ? undefined : min.inclusive ? String(min.value) : isInt ? String(Number(min.value) + 1) : `> ${String(min.value)}`;
      const hi = max ? String(max.value) : undefined;
      const range = hi !== undefined ? ` ${lo ?? ''}..${hi}` : lo === undefined ? '' : lo.startsWith('>') ? ` ${lo}` : ` >= ${lo}`;
      return `${isInt ? 'integer' : 'number'}${range}`;
    }
    case 'string': {
      const url = d.format === 'url' || (d.checks ?? []).some((c) => c._zod.def.format === 'url');
      return url ? 'URL' : 'text';
    }
    default:
      return d.type;
  }
}

function asEnvText(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (Array.isArray(v)) return v.join(',');
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** Every variable of every group, in schema order. */
export function variables(groups: readonly ConfigGroup[] = CONFIG_GROUPS): VariableInfo[] {
  return groups.flatMap((group) =>
    Object.entries(group.schema.shape as Record<string, z.ZodType>).map(([name, schema]) => {
      const bool = typeOf(schema) === 'true/false';
      const dv = defaultOf(schema);
      return {
        name,
        group,
        schema,
        description: schema.description ?? '',
        type: typeOf(schema),
        defaultValue: bool && dv === 'false' ? 'false' : asEnvText(dv),
      };
    }),
  );
}

/** Is the variable's value secret as a whole (key material, passwords)? */
export function isSecretName(name: string): boolean {
  return /(SECRET|PASSWORD|PRIVATE|(^|_)KEY($|_))/.test(name) && !/_URL$/.test(name);
}

/** The value as `peerbridge config` shows it: a URL's password and secret variables masked. */
export function maskValue(name: string, value: string): string {
  if (value === '') return value;
  if (isSecretName(name)) return '****';
  // Any URL with credentials (DATABASE_URL): the password masked, the rest kept.
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)([^@/\s]*)@/i, (_m, head: string) => `${head}****@`);
}

export interface EffectiveSetting {
  name: string;
  group: string;
  /** The value in effect, as it would be written in the environment (masked where secret). */
  value: string;
  /** env: set in the environment; default: the schema's default; unset: no value (the feature's own fallback applies). */
  source: 'env' | 'default' | 'unset';
  /** The parse error when the environment's value is refused. */
  error?: string;
}

/** The effective configuration of `env`, every runtime variable (or every one with `all`). */
export function effectiveConfig(env: Record<string, string | undefined>, options: { all?: boolean } = {}): EffectiveSetting[] {
  const groups = CONFIG_GROUPS.filter((g) => options.all || g.runtime);
  return variables(groups).map((v) => {
    const raw = env[v.name];
    const parsed = v.schema.safeParse(raw);
    const set = raw !== undefined && raw !== '';
    if (!parsed.success) {
      return {
        name: v.name,
        group: v.group.name,
        value: maskValue(v.name, raw ?? ''),
        source: 'env',
        error: parsed.error.issues.map((i) => i.message).join('; '),
      };
    }
    const text = asEnvText(parsed.data) ?? '';
    return { name: v.name, group: v.group.name, value: maskValue(v.name, text), source: set ? 'env' : text === '' ? 'unset' : 'default' };
  });
}
