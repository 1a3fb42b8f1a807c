/**
 * Console settings from the environment, parsed with zod when the module opens (a bad value stops
 * start-up naming the variable), kept here like src/auth/config.ts.
 */
import { z } from 'zod';

const ConsoleConfigSchema = z.object({
  /** A session ends after this many minutes without a request. */
  CONSOLE_SESSION_IDLE_MINUTES: z.coerce
    .number()
    .positive()
    .max(24 * 60)
    .default(30),
  /** A session ends this many hours after sign-in, however busy. */
  CONSOLE_SESSION_MAX_HOURS: z.coerce
    .number()
    .positive()
    .max(7 * 24)
    .default(12),
  /** Failed sign-ins for one user name within CONSOLE_LOCKOUT_MINUTES that lock the name out. */
  CONSOLE_LOCKOUT_FAILURES: z.coerce.number().int().min(1).max(100).default(5),
  /** The lock-out window, in minutes: a name is locked until its oldest counted failure is this old. */
  CONSOLE_LOCKOUT_MINUTES: z.coerce
    .number()
    .positive()
    .max(24 * 60)
    .default(15),
});

export type ConsoleConfig = z.infer<typeof ConsoleConfigSchema>;

/** Parses the console settings; throws an Error naming each bad variable. */
export function loadConsoleConfig(env: Record<string, string | undefined> = process.env): ConsoleConfig {
  const parsed = ConsoleConfigSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid console configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
