/**
 * Rotation of the token signing key (`peerbridge auth rotate-key`, ServerKeys.rotate) on both
 * drivers: the new key signs, the retired one stays in the JWKS and verifies its tokens, a running
 * process picks the new key up on reload, and a key retired longer than RETIRED_KEEP_SECONDS goes
 * at the next rotation.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jwtVerify, SignJWT } from 'jose';
import { ServerKeys } from '../../src/auth';
import { RETIRED_KEEP_SECONDS } from '../../src/auth/server-keys';
import { authCommand } from '../../src/cli/auth-token';
import { openDriver } from '../../src/store';
import { createTestDatabase, DRIVERS } from '../support/stores';
import { openTestDriver, type TestDriver } from './helpers';
import { run } from '../cli/run-cli';

async function sign(keys: ServerKeys): Promise<string> {
  const { kid, alg, key } = keys.signing;
  return new SignJWT({ scope: 'system/*.read' }).setProtectedHeader({ alg, kid }).setExpirationTime('5m').sign(key);
}

async function verifies(keys: ServerKeys, token: string): Promise<boolean> {
  const kid = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()) as { kid: string };
  const k = await keys.publicKey(kid.kid);
  if (!k) return false;
  return jwtVerify(token, k.key).then(
    () => true,
    () => false,
  );
}

describe.each(DRIVERS)('signing key rotation on %s', (driverName) => {
  let db: TestDriver;
  beforeEach(async () => {
    db = await openTestDriver(driverName);
  });
  afterEach(() => db.close());

  test('the new key signs, the retired one still verifies and is published, until it is removed', async () => {
    const running = await ServerKeys.open(db.driver);
    const first = running.signing.kid;
    const oldToken = await sign(running);

    const r = await ServerKeys.rotate(db.driver);
    expect(r.kid).not.toBe(first);
    expect(r.retired).toEqual([first]);
    expect(r.removed).toEqual([]);

    // A process started after the rotation signs with the new key and verifies tokens of the old one.
    const fresh = await ServerKeys.open(db.driver);
    expect(fresh.signing.kid).toBe(r.kid);
    expect(
      fresh
        .jwks()
        .keys.map((k) => k.kid)
        .sort(),
    ).toEqual([first, r.kid].sort());
    expect(await verifies(fresh, oldToken)).toBe(true);
    expect(await verifies(fresh, await sign(fresh))).toBe(true);

    // The process that was running signs with the new key after its reload.
    expect(running.signing.kid).toBe(first);
    await running.reload();
    expect(running.signing.kid).toBe(r.kid);
    expect(await verifies(running, oldToken)).toBe(true);

    // Once retired longer than RETIRED_KEEP_SECONDS, the next rotation deletes it.
    await db.driver.query(`UPDATE auth_key SET retired_at = now() - make_interval(secs => $1) WHERE kid = $2`, [RETIRED_KEEP_SECONDS + 60, first]);
    const r2 = await ServerKeys.rotate(db.driver);
    expect(r2.removed).toEqual([first]);
    expect(r2.retired).toEqual([r.kid]);
    const after = await ServerKeys.open(db.driver);
    expect(
      after
        .jwks()
        .keys.map((k) => k.kid)
        .sort(),
    ).toEqual([r.kid, r2.kid].sort());
    expect(after.signing.kid).toBe(r2.kid);
    expect(await verifies(after, oldToken)).toBe(false);
  });
});

describe('peerbridge auth rotate-key', () => {
  const capture = (): NodeJS.WritableStream & { text: string } => {
    const s = { text: '', write: (c: string) => ((s.text += c), true) };
    return s as unknown as NodeJS.WritableStream & { text: string };
  };

  test.each(DRIVERS)('rotates the key of the configured store (%s)', async (driverName) => {
    const dir = mkdtempSync(join(tmpdir(), 'pb-rotate-'));
    const pg = driverName === 'pg' ? await createTestDatabase() : undefined;
    const env = pg ? { DATABASE_URL: pg.url } : { DATA_DIR: dir };
    try {
      const before = await openDriver(env);
      const first = (await ServerKeys.open(before)).signing.kid;
      await before.close();
      const out = capture();
      const err = capture();
      expect(await authCommand(['rotate-key'], out, err, env)).toBe(0);
      expect(out.text).toMatch(/^New signing key \S+\n/);
      expect(out.text).toContain(`Retired (still verifying their tokens for ${RETIRED_KEEP_SECONDS} s): ${first}`);
      const driver = await openDriver(env);
      const keys = await ServerKeys.open(driver);
      expect(keys.signing.kid).not.toBe(first);
      expect(out.text).toContain(keys.signing.kid);
      await driver.close();
    } finally {
      await pg?.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('rotate-key takes no options; --help lists it', async () => {
    const bad = await run('auth', 'rotate-key', '--force');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/rotate-key takes no options/);
    const help = await run('auth', '--help');
    expect(help.out).toMatch(/auth rotate-key/);
  });
});
