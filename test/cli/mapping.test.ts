/**
 * `peerbridge mapping init` and `peerbridge mapping test` (issue 13: writing a new mapping from
 * scratch), and `--mapping <name>` finding a one-file mapping in the mappings folder
 * (--mappings-dir, MAPPINGS_DIR). Fixtures: examples/outside/acme-csv and wayfinder-page, and
 * the samples of examples/mappings/acme-csv.yaml (acme-csv.samples/).
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSource } from '../../src/translate';
import { MappingLoadError } from '../../src/translate/types';
import { run } from './run-cli';

const ROOT = join(__dirname, '..', '..');
const ACME = join(ROOT, 'examples', 'outside', 'acme-csv');
const EXAMPLES = join(ROOT, 'examples', 'mappings');
const tmp = (): string => mkdtempSync(join(tmpdir(), 'pb-mapping-'));

describe('peerbridge mapping init', () => {
  test('from a CSV export: every column listed, guesses marked, required targets without a column as TODO', async () => {
    const out = join(tmp(), 'acme-visits.yaml');
    const res = await run('mapping', 'init', '--from', join(ACME, 'visits.csv'), '--out', out);
    expect(res.code).toBe(0);
    expect(res.err).toMatch(/^Wrote .*acme-visits\.yaml: 7 guesses to check, 12 TODOs to fill in; then peerbridge mapping test /);
    const yaml = readFileSync(out, 'utf8');
    for (const column of ['ClientNo', 'SvcDate', 'StartTime', 'EndTime', 'Status', 'Staff', 'Type']) expect(yaml).toContain(column);
    expect(yaml).toContain('- record: contact  # guess from the file name');
    expect(yaml).toMatch(/start: \{ from: \[SvcDate, StartTime\], transform: \[\{ join: " " \}, \{ datetime: "MM\/dd\/yyyy HH:mm" \}\] \}\s+# guess/);
    expect(yaml).toMatch(/mode: \{ from: Type, table: visits-mode \}\s+# guess/);
    expect(yaml).toContain('# TODO id: required (text)');
    expect(yaml).toContain('# TODO episode.id: required (text)');
    expect(yaml).toContain('codes: { "Face to face": TODO, Phone: TODO }');
    // Until the codes are chosen it does not load, and says where.
    expect(() => loadSource(out)).toThrow(MappingLoadError);
    expect(() => loadSource(out)).toThrow(/line \d+, tables\.visits-status\.codes/);
  });

  test('a guessed birth date gets a date step, a person kind from clients.csv; --kind overrides the file name', async () => {
    const dir = tmp();
    const res = await run('mapping', 'init', '--from', join(ACME, 'clients.csv'), '--out', join(dir, 'c.yaml'));
    expect(res.code).toBe(0);
    const yaml = readFileSync(join(dir, 'c.yaml'), 'utf8');
    expect(yaml).toContain('- record: person');
    expect(yaml).toMatch(/birthDate: \{ from: DOB, transform: \{ date: "MM\/dd\/yyyy" \} \}\s+# guess/);
    expect(yaml).toContain('# Enrolled: not mapped (no target guessed)');
    const export1 = join(dir, 'export.csv');
    writeFileSync(export1, readFileSync(join(ACME, 'visits.csv')));
    expect((await run('mapping', 'init', '--from', export1, '--out', join(dir, 'e.yaml'), '--kind', 'contacts')).code).toBe(0);
    expect(readFileSync(join(dir, 'e.yaml'), 'utf8')).toContain('- record: contact\n');
  });

  test('from a JSON page: a feed per list, each with its records selector and kind', async () => {
    const out = join(tmp(), 'page.yaml');
    const res = await run('mapping', 'init', '--from', join(ROOT, 'examples', 'outside', 'wayfinder-page', 'page.json'), '--out', out);
    expect(res.code).toBe(0);
    const yaml = readFileSync(out, 'utf8');
    expect(yaml).toContain('format: json');
    for (const [list, kind] of [
      ['clients', 'person'],
      ['staff', 'practitioner'],
      ['enrollments', 'episode'],
      ['visits', 'contact'],
    ]) {
      expect(yaml).toContain(`json: { records: "$.data.${list}[*]" }`);
      expect(yaml).toMatch(new RegExp(`  ${list}:\\n(.*\\n)*?      - record: ${kind}`));
    }
    expect(yaml).toMatch(/name\.family: name\.family\s+# guess/);
  });

  test('from a nested vendor payload: nested lists are listed as such', async () => {
    const out = join(tmp(), 'vendor.yaml');
    expect((await run('mapping', 'init', '--from', join(ROOT, 'examples', 'outside', 'vendor-json', 'payload.json'), '--out', out)).code).toBe(0);
    const yaml = readFileSync(out, 'utf8');
    expect(yaml).toContain('json: { records: "$.clients[*]" }');
    expect(yaml).toContain('# enrollments: a list of objects: map its items with each');
    expect(yaml).toMatch(/name\.family: demographics\.name\.family\s+# guess/);
  });

  test('bad input: no --from, a missing file, an unknown kind, an existing --out', async () => {
    expect((await run('mapping', 'init')).code).toBe(2);
    const missing = await run('mapping', 'init', '--from', '/nonexistent/x.csv');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('no such file');
    const kind = await run('mapping', 'init', '--from', join(ACME, 'visits.csv'), '--kind', 'widgets', '--out', join(tmp(), 'w.yaml'));
    expect(kind.code).toBe(2);
    expect(kind.err).toContain('--kind widgets: not a record kind');
    const out = join(tmp(), 'exists.yaml');
    writeFileSync(out, 'keep me');
    const again = await run('mapping', 'init', '--from', join(ACME, 'visits.csv'), '--out', out);
    expect(again.code).toBe(2);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    expect((await run('mapping', 'frobnicate')).code).toBe(2);
  });
});

describe('peerbridge mapping test', () => {
  test('acme-csv by name in --mappings-dir: its sample passes (exit 0)', async () => {
    const res = await run('mapping', 'test', 'acme-csv', '--mappings-dir', EXAMPLES);
    expect(res.out).toContain('PASS  nightly (13 entries)');
    expect(res.out).toContain('1 of 1 samples of acme-csv pass');
    expect(res.code).toBe(0);
  });

  test('a sample whose output changed fails (exit 1) and says which resource and field', async () => {
    const dir = tmp();
    cpSync(join(EXAMPLES, 'acme-csv.yaml'), join(dir, 'acme-csv.yaml'));
    cpSync(join(EXAMPLES, 'acme-csv.samples'), join(dir, 'acme-csv.samples'), { recursive: true });
    const expectedFile = join(dir, 'acme-csv.samples', 'nightly.expected.json');
    const bundle = JSON.parse(readFileSync(expectedFile, 'utf8')) as { entry: { resource: { resourceType: string; birthDate?: string } }[] };
    const patient = bundle.entry.find((e) => e.resource.resourceType === 'Patient');
    if (!patient) throw new Error('no Patient in the sample');
    patient.resource.birthDate = '1900-01-01';
    bundle.entry.pop();
    writeFileSync(expectedFile, JSON.stringify(bundle));
    const res = await run('mapping', 'test', join(dir, 'acme-csv.yaml'));
    expect(res.code).toBe(1);
    expect(res.out).toContain('FAIL  nightly');
    expect(res.out).toMatch(/changed Patient\/[\w-]+\.resource\.birthDate: expected "1900-01-01", got "\d{4}-\d{2}-\d{2}"/);
    expect(res.out).toMatch(/extra \w+\/[\w-]+/);
    // --update writes what the mapping gives now; then it passes.
    expect((await run('mapping', 'test', join(dir, 'acme-csv.yaml'), '--update')).code).toBe(0);
    expect((await run('mapping', 'test', join(dir, 'acme-csv.yaml'))).code).toBe(0);
  });

  test('a mapping without samples fails and says where they go; an unknown mapping is exit 2', async () => {
    const dir = tmp();
    cpSync(join(EXAMPLES, 'acme-csv.yaml'), join(dir, 'acme-csv.yaml'));
    const res = await run('mapping', 'test', join(dir, 'acme-csv.yaml'));
    expect(res.code).toBe(1);
    expect(res.out).toContain(`No samples for acme-csv: put an input and its <input>.expected.json in ${join(dir, 'acme-csv.samples')}`);
    const unknown = await run('mapping', 'test', 'no-such-mapping', '--mappings-dir', EXAMPLES);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain("Unknown mapping 'no-such-mapping'");
    expect(unknown.err).toContain('acme-csv, wayfinder-page');
  });
});

describe('--mapping <name> finds a one-file mapping', () => {
  const saved = process.env.MAPPINGS_DIR;
  afterEach(() => {
    if (saved === undefined) delete process.env.MAPPINGS_DIR;
    else process.env.MAPPINGS_DIR = saved;
  });

  test('translate --mapping acme-csv --mappings-dir examples/mappings', async () => {
    const out = join(tmp(), 'b.json');
    const res = await run('translate', '--mapping', 'acme-csv', '--mappings-dir', EXAMPLES, ACME, '--out', out, '--no-progress');
    expect(res.err).toContain('Source records: 5 read, 5 accepted, 0 rejected');
    expect(res.code).toBe(0);
    expect(existsSync(out)).toBe(true);
  });

  test('translate --mapping acme-csv with MAPPINGS_DIR set; a folder mapping by name still works', async () => {
    process.env.MAPPINGS_DIR = EXAMPLES;
    const res = await run('translate', '--mapping', 'acme-csv', join(ACME, 'clients.csv'), '--out', join(tmp(), 'c.json'), '--no-progress');
    expect(res.code).toBe(0);
    delete process.env.MAPPINGS_DIR;
    const riverbend = await run('mapping', 'test', 'riverbend-csv');
    expect(riverbend.out).toContain('No samples for riverbend-csv');
  });
});

describe('mappings/README.md, "Writing a new mapping from scratch", step by step', () => {
  test('init, edit (the worked example), samples, mapping test --update, mapping test, translate --out-dir', async () => {
    const dir = tmp();
    const mapping = join(dir, 'my-ehr.yaml');
    const init = await run('mapping', 'init', '--from', join(ACME, 'visits.csv'), '--out', mapping);
    expect(init.err).toContain('Wrote');
    expect(init.err).toContain('7 guesses to check, 12 TODOs to fill in');
    cpSync(join(EXAMPLES, 'acme-csv.yaml'), mapping);
    cpSync(join(ACME, 'clients.csv'), join(dir, 'my-ehr.samples', 'nightly', 'clients.csv'));
    cpSync(join(ACME, 'visits.csv'), join(dir, 'my-ehr.samples', 'nightly', 'visits.csv'));
    expect((await run('mapping', 'test', mapping, '--update')).code).toBe(0);
    const tested = await run('mapping', 'test', mapping);
    expect(tested.out).toBe('PASS  nightly (13 entries)\n1 of 1 samples of acme-csv pass\n');
    expect(tested.code).toBe(0);
    const outDir = join(dir, 'acme-bundles');
    const translated = await run('translate', '--mapping', mapping, ACME, '--out-dir', outDir, '--no-progress');
    expect(translated.code).toBe(0);
    expect(existsSync(join(outDir, '0001.json'))).toBe(true);
    expect(existsSync(join(outDir, 'manifest.json'))).toBe(true);
  });
});
