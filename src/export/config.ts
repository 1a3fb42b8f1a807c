/**
 * Bulk Data export settings from the environment, parsed once with zod when the module opens
 * (a bad value stops start-up naming the variable, like src/config). Kept here rather than in
 * src/config so the export module can be wired in without touching the shared schema.
 */
import { z } from 'zod';

export const ExportConfigSchema = z.object({
  /** Hours a job and its files are kept after kick-off (https://hl7.org/fhir/uv/bulkdata/export.html#response---complete-status, `Expires`). */
  EXPORT_TTL_HOURS: z.coerce
    .number()
    .positive()
    .default(24)
    .describe('Hours a job and its files are kept after kick-off (https://hl7.org/fhir/uv/bulkdata/export.html#response---complete-status, `Expires`).'),
  /** Seconds a worker's claim on a job lasts without renewal; a crashed process's job is taken over after it. */
  EXPORT_LEASE_SECONDS: z.coerce
    .number()
    .positive()
    .default(60)
    .describe("Seconds a worker's claim on a job lasts without renewal; a crashed process's job is taken over after it."),
  /** Most resources in one output file; larger types are split into several files. */
  EXPORT_FILE_MAX_RESOURCES: z.coerce
    .number()
    .int()
    .positive()
    .default(100_000)
    .describe('Most resources in one output file; larger types are split into several files.'),
  /** Seconds between sweeps (expired jobs removed, abandoned jobs resumed). */
  EXPORT_SWEEP_SECONDS: z.coerce.number().positive().default(15).describe('Seconds between sweeps (expired jobs removed, abandoned jobs resumed).'),
});

export type ExportConfig = z.infer<typeof ExportConfigSchema>;

/** Parses the export settings; throws an Error naming each bad variable. */
export function loadExportConfig(env: Record<string, string | undefined> = process.env): ExportConfig {
  const parsed = ExportConfigSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid Bulk Data export configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
