/**
 * Configuration from the environment, parsed once at start with zod; a bad value stops start-up
 * with the variable's name.
 */
import { z } from 'zod';

/** A port number, or unset (''). */
const optionalPort = z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(0).max(65535).optional());

/**
 * The server's settings. Every variable carries `.describe()` text: docs/configuration.md and
 * `peerbridge config` are generated from it (src/cli/config-registry.ts puts this schema together
 * with the auth, export and tooling ones).
 */
export const ConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080).describe('TCP port of the HTTP server (FHIR API, ingest, auth, health).'),
  HOST: z.string().min(1).default('0.0.0.0').describe('Interface the HTTP server binds.'),
  DATA_DIR: z.string().min(1).default('./data').describe('Folder of the embedded PGlite store (ignored when DATABASE_URL is set).'),
  DATABASE_URL: z
    .string()
    .url()
    .optional()
    .describe('PostgreSQL connection URL (`postgres://user:password@host:5432/db`); when unset the embedded PGlite store in DATA_DIR is used.'),
  PGLITE_SHARED_BUFFERS: z
    .string()
    .regex(/^\d+(kB|MB|GB)$/, 'a size such as 16MB or 256MB')
    .default('128MB')
    .describe(
      "PostgreSQL's `shared_buffers` in the embedded PGlite store (ignored with DATABASE_URL), resident in the server from the start. 16MB idles ~100 MB lower but, once the hot pages outgrow it, every page is a read() from the page cache: on the 10-minute soak it fell to 30% of its first minute against 61% at 5 minutes with 128MB.",
    ),
  /** Largest request body accepted, in bytes (413 beyond). */
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(16 * 1024 * 1024)
    .describe('Largest request body accepted, in bytes (413 beyond).'),
  /**
   * Public base URL of the FHIR endpoint (`https://host/fhir`): every absolute URL the server
   * writes starts from it (see `publicBaseUrl`); default `http://localhost:<PORT>/fhir`.
   */
  BASE_URL: z
    .string()
    .url()
    .refine((v) => /^https?:\/\//i.test(v), 'must be an http or https URL')
    .transform((v) => v.replace(/\/+$/, ''))
    .optional()
    .describe(
      'Public base URL of the FHIR endpoint (`https://host/fhir`): every absolute URL the server writes (Location, Bundle links, export manifests, token `aud`) starts from it, never from the request. Default `http://localhost:<PORT>/fhir`.',
    ),
  LOG_LEVEL: z
    .enum(['debug', 'info', 'warn', 'error'])
    .default('info')
    .describe('Least severity logged (JSON lines on stdout/stderr): `info` logs one line per request, `warn` and `error` only problems, `debug` more.'),
  /** The rule set (billing units, eligibility, recovery capital); rules/default.json when unset. */
  RULES_FILE: z.string().min(1).optional().describe('The rule set (billing units, eligibility, recovery capital); rules/default.json when unset.'),
  /** Folder of outside-source mapping folders (mappings/README.md); the shipped mappings/ when unset. */
  MAPPINGS_DIR: z
    .string()
    .min(1)
    .optional()
    .describe('Folder of outside-source mappings: mapping folders and one-file `<name>.yaml` mappings (mappings/README.md); the shipped mappings/ when unset.'),
  /** Port of the HL7 v2 MLLP listener; the listener runs only when it is set. */
  MLLP_PORT: optionalPort.describe('Port of the HL7 v2 MLLP listener; the listener runs only when it is set.'),
  /** Interface the MLLP listener binds (MLLP has no TLS or auth: bind it to a private network). */
  MLLP_HOST: z.string().min(1).default('0.0.0.0').describe('Interface the MLLP listener binds (MLLP has no TLS or auth: bind it to a private network).'),
  /** Largest HL7 v2 message taken over MLLP, in bytes. */
  MLLP_MAX_MESSAGE_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024)
    .describe('Largest HL7 v2 message taken over MLLP, in bytes.'),
  /** The hl7v2 mapping folder that reads MLLP messages. */
  MLLP_SOURCE: z.string().min(1).default('hl7v2').describe('The hl7v2 mapping folder that reads MLLP messages.'),
  /** Worker threads validating request bodies and running the pipeline of /ingest and MLLP (default: one per core, os.availableParallelism()); 0 does both in the request thread. */
  VALIDATION_WORKERS: z
    .preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(0).optional())
    .describe(
      'Worker threads validating request bodies and running the pipeline for `/ingest` and MLLP (unset: one per core); 0 does both in the request thread.',
    ),
  /** Requests waiting for a validation worker at most (default 16 per worker); beyond: 503 with Retry-After. */
  VALIDATION_QUEUE: z
    .preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(0).optional())
    .describe('Requests waiting for a validation worker at most (unset: 16 per worker); beyond: 503 with Retry-After.'),
  /** JSON elements one request body may have to be validated (413 beyond). */
  VALIDATION_MAX_ELEMENTS: z.coerce
    .number()
    .int()
    .positive()
    .default(200_000)
    .describe('JSON elements one request body may have to be validated (413 beyond).'),
  /** Milliseconds one validation may run in a worker before it is stopped (422). */
  VALIDATION_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(20_000)
    .describe('Milliseconds one validation may run in a worker before it is stopped (422).'),
  /**
   * `all`: every resource the pipeline emits gets a narrative generated from its content (text.status
   * generated), so dom-6 holds; `required` (default): only those whose profile requires one (CarePlan).
   * Read by the pipeline (src/fhir/narrative.ts narrativeModeFromEnv); checked here.
   */
  NARRATIVE: z
    .enum(['required', 'all'])
    .default('required')
    .describe(
      '`required`: a generated narrative only where a profile requires one (CarePlan, US Core); `all`: on every resource the pipeline emits, so dom-6 no longer warns (about +45% JSON size; bench/narrative.ts).',
    ),
  /**
   * FHIR packages (implementation guides) the validator loads at start, comma-separated: `.tgz`
   * files, package folders, or `name#version` in the package cache (PEERBRIDGE_PACKAGE_CACHE, ~/.fhir/packages).
   */
  IG_PACKAGES: z
    .string()
    .optional()
    .transform((v) =>
      (v ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .describe(
      'FHIR packages (implementation guides) the validator loads at start, comma-separated: `.tgz` files, package folders, or `name#version` in the package cache (PEERBRIDGE_PACKAGE_CACHE, ~/.fhir/packages).',
    ),
  AUDIT_RETENTION_DAYS: z
    .preprocess((v) => (v === '' ? undefined : v), z.coerce.number().positive().optional())
    .describe(
      'Days an AuditEvent is kept in the store; older ones are archived to AUDIT_ARCHIVE_DIR as NDJSON (fsynced, 0600) and deleted with their history and search rows, at start and hourly. Unset: kept forever.',
    ),
  AUDIT_ARCHIVE_DIR: z.string().min(1).optional().describe("Folder of the archived AuditEvents' NDJSON files (unset: `<DATA_DIR>/audit-archive`)."),
  AUDIT_QUEUE_HIGH_WATER: z.coerce
    .number()
    .int()
    .positive()
    .default(5000)
    .describe(
      'AuditEvents waiting to be written from which new requests wait for the audit writer to catch up (back-pressure); events are dropped (and counted) only beyond twice this.',
    ),
  AUDIT_QUEUE_WAIT_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(10_000)
    .describe('Longest a request waits for room in the audit queue (ms) before it is answered 503 with Retry-After, unserved.'),
  STORE_MAINTENANCE: z
    .enum(['on', 'off'])
    .default('on')
    .describe(
      '`on`: the store runs ANALYZE in the background after bulk writes (10% of its rows, at least 1,000), and on PGlite, which never autovacuums, VACUUM ANALYZE; `off`: left to the database administrator.',
    ),
  /** Port of the Prometheus `/metrics` listener; unset: no separate listener (the main port serves `/metrics` to the `system/Metrics.read` scope). */
  METRICS_PORT: optionalPort.describe(
    'Port of a separate listener serving Prometheus `/metrics` without a token (bind it to a private network); unset: none. The main port serves `/metrics` to clients with the `system/Metrics.read` scope either way.',
  ),
  METRICS_HOST: z.string().min(1).default('127.0.0.1').describe('Interface the METRICS_PORT listener binds.'),
  WORKERS: z
    .preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(1).max(1024).optional())
    .describe(
      "Server processes (node:cluster, src/cluster.ts) sharing nothing but the database; unset: one per core (os.availableParallelism()) with DATABASE_URL, always 1 on PGlite (one process's store).",
    ),
});

/**
 * Where the validator and the package tools keep their files; read where they are used
 * (src/validation/definitions-cache.ts, src/validation/packages) and by every command, not only
 * the server.
 */
export const PathsConfigSchema = z.object({
  PEERBRIDGE_CACHE_DIR: z
    .string()
    .min(1)
    .optional()
    .describe('Folder of the compiled definitions cache (unset: build/definitions); `.tgz` packages are unpacked beside it (`../packages`).'),
  PEERBRIDGE_PACKAGE_CACHE: z
    .string()
    .optional()
    .describe('Extra FHIR package caches searched for `name#version` before ~/.fhir/packages, separated by the path delimiter (`:` on Linux).'),
});

export type Config = z.infer<typeof ConfigSchema>;

/** Parses configuration; throws an Error naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/**
 * The public FHIR base URL: `BASE_URL`, else `http://localhost:<PORT>/fhir`. Every absolute URL
 * the server writes (Location, Bundle links and fullUrls, export manifests, token `iss`/`aud`,
 * SMART configuration, CapabilityStatement) starts from it, never from the request's `Host` or
 * `X-Forwarded-*` headers, which any client sets as it likes.
 */
export function publicBaseUrl(config: Partial<Pick<Config, 'BASE_URL' | 'PORT'>>): string {
  return (config.BASE_URL ?? `http://localhost:${config.PORT ?? 8080}/fhir`).replace(/\/+$/, '');
}

/** The server's public root for a FHIR base: the base without its last path segment (`https://host/fhir` -> `https://host`). */
export function publicRootUrl(base: string): string {
  const url = new URL(base);
  url.pathname = url.pathname.replace(/\/+$/, '').replace(/\/[^/]*$/, '');
  url.search = '';
  url.hash = '';
  return url.toString().replace(/\/+$/, '');
}
