/**
 * `peerbridge auth rotate-key`: a new signing key for access tokens on the store the environment
 * names (DATABASE_URL, else PGlite in DATA_DIR: stop the server first, PGlite is one process).
 * The previous keys are retired: they stay in the JWKS and verify the tokens they signed until
 * those have expired (src/auth/server-keys.ts, RETIRED_KEEP_SECONDS), and the next rotation after
 * that deletes them. Running servers pick the new key up within a minute.
 */
import { RETIRED_KEEP_SECONDS, ServerKeys } from '../auth/server-keys';
import { loadConfig } from '../config';
import { openDriver } from '../store';

export const ROTATE_USAGE = `  peerbridge auth rotate-key   (a new token signing key; the old one verifies its tokens for ${RETIRED_KEEP_SECONDS / 3600} hours more)
`;

/** Rotates the key; exit 0 rotated, 2 the store could not be opened or written. */
export async function rotateKey(out: NodeJS.WritableStream, env: NodeJS.ProcessEnv): Promise<number> {
  const driver = await openDriver(loadConfig(env));
  try {
    const r = await ServerKeys.rotate(driver);
    out.write(`New signing key ${r.kid}\n`);
    if (r.retired.length) out.write(`Retired (still verifying their tokens for ${RETIRED_KEEP_SECONDS} s): ${r.retired.join(', ')}\n`);
    if (r.removed.length) out.write(`Removed (retired over ${RETIRED_KEEP_SECONDS} s ago): ${r.removed.join(', ')}\n`);
    out.write('Running servers sign with the new key within a minute; no restart needed.\n');
    return 0;
  } finally {
    await driver.close();
  }
}
