/**
 * Configuration from the environment, parsed once at start with zod; a bad value stops start-up
 * with the variable's name.
 */
import { z } from 'zod';

const ConfigSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z.string().url().optional(),
  /** Largest request body accepted, in bytes (413 beyond). */
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(16 * 1024 * 1024),
  /**
   * Public base URL of the FHIR endpoint (`https://host/fhir`): every absolute URL the server
   * writes starts from it (see `publicBaseUrl`); default `http://localhost:<PORT>/fhir`.
   */
  BASE_URL: z
    .string()
    .url()
    .refine((v) => /^https?:\/\//i.test(v), 'must be an http or https URL')
    .transform((v) => v.replace(/\/+$/, ''))
    .optional(),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** The rule set (billing units, eligibility, recovery capital); rules/default.json when unset. */
  RULES_FILE: z.string().min(1).optional(),
  /** Folder of outside-source mapping folders (mappings/README.md); the shipped mappings/ when unset. */
  MAPPINGS_DIR: z.string().min(1).optional(),
  /** Port of the HL7 v2 MLLP listener; the listener runs only when it is set. */
  MLLP_PORT: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(0).max(65535).optional()),
  /** Interface the MLLP listener binds (MLLP has no TLS or auth: bind it to a private network). */
  MLLP_HOST: z.string().min(1).default('0.0.0.0'),
  /** Largest HL7 v2 message taken over MLLP, in bytes. */
  MLLP_MAX_MESSAGE_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  /** The hl7v2 mapping folder that reads MLLP messages. */
  MLLP_SOURCE: z.string().min(1).default('hl7v2'),
  /** Worker threads validating request bodies (default: one per core, os.availableParallelism()); 0 validates in the request thread. */
  VALIDATION_WORKERS: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(0).optional()),
  /** Requests waiting for a validation worker at most (default 16 per worker); beyond: 503 with Retry-After. */
  VALIDATION_QUEUE: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(0).optional()),
  /** JSON elements one request body may have to be validated (413 beyond). */
  VALIDATION_MAX_ELEMENTS: z.coerce.number().int().positive().default(200_000),
  /** Milliseconds one validation may run in a worker before it is stopped (422). */
  VALIDATION_TIMEOUT_MS: z.coerce.number().int().positive().default(20_000),
  /**
   * `all`: every resource the pipeline emits gets a narrative generated from its content (text.status
   * generated), so dom-6 holds; `required` (default): only those whose profile requires one (CarePlan).
   * Read by the pipeline (src/fhir/narrative.ts narrativeModeFromEnv); checked here.
   */
  NARRATIVE: z.enum(['required', 'all']).default('required'),
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
    ),
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
