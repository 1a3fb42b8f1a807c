/**
 * The Bulk Data export settings' schema, parsed by src/export/config.ts (`loadExportConfig`) when
 * the export module opens; here beside the other schemas for the registry (src/config/registry.ts).
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
