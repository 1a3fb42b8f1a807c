/**
 * The worked example of mappings/README.md: a new source from its CSV header to a passing run,
 * with a one-file mapping (examples/mappings/acme-csv.yaml) and its two exports
 * (examples/outside/acme-csv/). The README shows the same mapping: kept equal here.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle, Encounter, Practitioner } from '@medplum/fhirtypes';
import { Validator } from '../../src/validation';
import { run } from './run-cli';

const ROOT = join(__dirname, '..', '..');
const MAPPING = join(ROOT, 'examples', 'mappings', 'acme-csv.yaml');
const EXPORTS = join(ROOT, 'examples', 'outside', 'acme-csv');
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'pb-worked-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test('the one-file mapping translates both exports, every record accepted, a valid Bundle', async () => {
  const out = join(tmp, 'bundle.json');
  const r = await run('translate', '--mapping', MAPPING, EXPORTS, '--out', out, '--no-progress');
  expect(r.err).toMatch(/Source records: 5 read, 5 accepted, 0 rejected/);
  expect(r.code).toBe(0);
  const bundle = JSON.parse(readFileSync(out, 'utf8')) as Bundle;
  expect(Validator.create().validate(bundle).valid).toBe(true);
  const resources = (bundle.entry ?? []).map((e) => e.resource);
  const practitioners = resources.filter((x): x is Practitioner => x?.resourceType === 'Practitioner');
  // "Lopez, Marisol" twice: one practitioner (the later row updates it), and Dana Whitfield.
  expect(practitioners.map((p) => p.name?.[0]).sort((a, b) => String(a?.family).localeCompare(String(b?.family)))).toEqual([
    expect.objectContaining({ family: 'Lopez', given: ['Marisol'] }),
    expect.objectContaining({ family: 'Whitfield', given: ['Dana'] }),
  ]);
  const encounters = resources.filter((x): x is Encounter => x?.resourceType === 'Encounter');
  expect(encounters).toHaveLength(3);
  // Every encounter's practitioner is in the Bundle (no dangling Practitioner ids).
  const ids = new Set(practitioners.map((p) => `Practitioner/${p.id}`));
  for (const e of encounters) {
    for (const p of e.participant ?? []) {
      if (p.individual?.reference?.startsWith('Practitioner/')) expect(ids.has(p.individual.reference)).toBe(true);
    }
  }
  expect(encounters.map((e) => e.status).sort()).toEqual(['cancelled', 'finished', 'finished']);
});

test('the README shows this very mapping', () => {
  const readme = readFileSync(join(ROOT, 'mappings', 'README.md'), 'utf8');
  const mapping = readFileSync(MAPPING, 'utf8').split('\n').slice(1).join('\n').trim();
  expect(readme).toContain(mapping);
});
