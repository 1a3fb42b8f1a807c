/**
 * Bulk Data export settings from the environment, parsed once with zod when the module opens
 * (a bad value stops start-up naming the variable, like src/config). The schema is
 * src/config/export.ts, with every other variable's (src/config/registry.ts).
 */
import type { z } from 'zod';
import { ExportConfigSchema } from '../config/export';

export { ExportConfigSchema };

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
