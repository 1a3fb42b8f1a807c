/**
 * Configuration in one place (issue 16 item 2): every environment variable the code reads (src,
 * bin, scripts) is in the registry with a description; `peerbridge config` prints the effective
 * configuration with sources and secrets masked; docs/configuration.md is what the schemas say;
 * the modules' own parsing and error messages are unchanged.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config';
import { CONFIG_GROUPS, effectiveConfig, maskValue, variables } from '../../src/cli/config-registry';
import { loadAuthConfig } from '../../src/auth/config';
import { loadExportConfig } from '../../src/export/config';
import { configCommand } from '../../src/cli/config';
import { FILE, render } from '../../scripts/build-config-docs';

const ROOT = join(__dirname, '..', '..');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'fhir-package-stubs' ? [] : filesUnder(p);
    return /\.(ts|js|mjs)$/.test(name) ? [p] : [];
  });
}

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

function runConfig(args: string[], env: Record<string, string | undefined>): { code: number; out: string; err: string } {
  const out = new Capture();
  const err = new Capture();
  const code = configCommand(args, out, err, env);
  return { code, out: out.text, err: err.text };
}

describe('the configuration registry', () => {
  const names = new Set(variables().map((v) => v.name));

  test('every variable the code reads (process.env.X, env.X in src, bin, scripts) is registered', () => {
    const read = new Map<string, string>();
    for (const file of ['src', 'bin', 'scripts'].flatMap((d) => filesUnder(join(ROOT, d)))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\benv\.([A-Z][A-Z0-9_]+)\b|\benv\[['"]([A-Z][A-Z0-9_]+)['"]\]/g)) read.set(m[1] ?? m[2], file.slice(ROOT.length + 1));
    }
    // The zod schemas read the environment whole: their keys are the variables.
    expect(read.size).toBeGreaterThan(3);
    const missing = [...read].filter(([name]) => !names.has(name)).map(([name, file]) => `${name} (${file})`);
    expect(missing).toEqual([]);
  });

  test('each variable has a description and a type; names are unique', () => {
    const all = variables();
    expect(all.length).toBe(names.size);
    for (const v of all) {
      expect({ name: v.name, ok: v.description.length > 10 && v.type.length > 0 }).toEqual({ name: v.name, ok: true });
    }
    expect(variables().find((v) => v.name === 'PORT')).toMatchObject({ type: 'integer 0..65535', defaultValue: '8080' });
    expect(variables().find((v) => v.name === 'AUTH_DISABLED')).toMatchObject({ type: 'true/false', defaultValue: 'false' });
    expect(variables().find((v) => v.name === 'LOG_LEVEL')?.type).toBe('one of: debug, info, warn, error');
    expect(CONFIG_GROUPS.filter((g) => g.runtime).map((g) => g.name)).toEqual(['server', 'auth', 'export', 'paths']);
  });

  test("the modules' own parsing and messages are unchanged", () => {
    expect(loadConfig({ PORT: '9000', IG_PACKAGES: 'a.tgz, b#1' })).toMatchObject({ PORT: 9000, IG_PACKAGES: ['a.tgz', 'b#1'], HOST: '0.0.0.0' });
    expect(() => loadConfig({ PORT: 'abc' })).toThrow(/^Invalid configuration:\n {2}PORT: /);
    // The server reads WORKERS through loadConfig (src/server.ts, src/cluster.ts workerCount): it must be in ConfigSchema.
    expect(loadConfig({ WORKERS: '1', DATABASE_URL: 'postgres://db/pb' }).WORKERS).toBe(1);
    expect(() => loadAuthConfig({ AUTH_TOKEN_TTL_SECONDS: '5' })).toThrow(/^Invalid auth configuration:\n {2}AUTH_TOKEN_TTL_SECONDS: /);
    expect(() => loadExportConfig({ EXPORT_TTL_HOURS: '-1' })).toThrow(/^Invalid Bulk Data export configuration:\n {2}EXPORT_TTL_HOURS: /);
    expect(loadAuthConfig({ AUTH_DISABLED: '1' }).AUTH_DISABLED).toBe(true);
  });

  test('masking: a URL password, key material; nothing else', () => {
    expect(maskValue('DATABASE_URL', 'postgres://pb:s3cr%40t@db:5432/peerbridge')).toBe('postgres://pb:****@db:5432/peerbridge');
    expect(maskValue('DATABASE_URL', 'postgres://db:5432/peerbridge')).toBe('postgres://db:5432/peerbridge');
    expect(maskValue('BENCH_SIGNING_KEY', '{"d":"abc"}')).toBe('****');
    expect(maskValue('AUTH_JWKS_CACHE_SECONDS', '300')).toBe('300');
  });

  test('effectiveConfig: env, default and unset sources', () => {
    const byName = new Map(effectiveConfig({ PORT: '9000', BASE_URL: 'https://pb.example/fhir/' }).map((s) => [s.name, s]));
    expect(byName.get('PORT')).toMatchObject({ value: '9000', source: 'env' });
    expect(byName.get('BASE_URL')).toMatchObject({ value: 'https://pb.example/fhir', source: 'env' });
    expect(byName.get('HOST')).toMatchObject({ value: '0.0.0.0', source: 'default' });
    expect(byName.get('DATABASE_URL')).toMatchObject({ value: '', source: 'unset' });
    expect(byName.has('PEERBRIDGE_TEST_PG')).toBe(false);
  });
});

describe('peerbridge config', () => {
  test('prints NAME=value (source), the database password masked', () => {
    const res = runConfig([], { DATABASE_URL: 'postgres://pb:hunter2@db:5432/peerbridge', LOG_LEVEL: 'warn' });
    expect(res.code).toBe(0);
    expect(res.out).toMatch(/^DATABASE_URL=postgres:\/\/pb:\*\*\*\*@db:5432\/peerbridge +\(env\)$/m);
    expect(res.out).toMatch(/^LOG_LEVEL=warn +\(env\)$/m);
    expect(res.out).toMatch(/^PORT=8080 +\(default\)$/m);
    expect(res.out).toMatch(/^EXPORT_TTL_HOURS=24 +\(default\)$/m);
    expect(res.out).not.toContain('hunter2');
  });

  test('--json: one array, masked too', () => {
    const res = runConfig(['--json'], { DATABASE_URL: 'postgres://pb:hunter2@db:5432/peerbridge' });
    expect(res.code).toBe(0);
    const list = JSON.parse(res.out) as Array<{ name: string; value: string; source: string; group: string }>;
    expect(list.find((s) => s.name === 'DATABASE_URL')).toEqual({
      name: 'DATABASE_URL',
      group: 'server',
      value: 'postgres://pb:****@db:5432/peerbridge',
      source: 'env',
    });
    expect(res.out).not.toContain('hunter2');
  });

  test('a refused value: shown with the reason, exit 1; --help; unknown option exit 2', () => {
    const bad = runConfig([], { PORT: 'eighty' });
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/^PORT=eighty +\(env, invalid: /m);
    expect(bad.err).toMatch(/^Invalid configuration: PORT: /);
    const help = runConfig(['--help'], {});
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/Usage: peerbridge config \[--json\]/);
    expect(runConfig(['--yaml'], {}).code).toBe(2);
    expect(runConfig(['--all'], {}).out).toMatch(/^PEERBRIDGE_TEST_PG=/m);
  });
});

describe('docs/configuration.md', () => {
  test('is what npm run build:config-docs writes (run it when this fails)', () => {
    const current = readFileSync(FILE, 'utf8');
    expect(render(current)).toBe(current);
    for (const v of variables()) expect(current).toContain(`| \`${v.name}\` |`);
  });
});
