/**
 * Golden files for translation (FHIR-Converter's {input, expected} rows): every canonical input in
 * examples/canonical gives exactly `<name>.expected.json` (the transaction Bundle `peerbridge
 * translate` writes) and `<name>.report.json` (summary and outcome, as `--report` writes them).
 * `UPDATE_GOLDEN=1 npx jest test/pipeline/golden.test.ts` rewrites them; review the diff.
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRules } from '../../src/domain/rules';
import { putEntry } from '../../src/fhir/bundle';
import { loadPackageTerms } from '../../src/fhir/context';
import { scanTopLevel } from '../../src/inbound/json-records';
import type { PipelineDeps } from '../../src/pipeline/canonical';
import { documentEvents, translateCanonical } from '../../src/pipeline/translate-canonical';
import { Validator } from '../../src/validation';

const DIR = join(__dirname, '..', '..', 'examples', 'canonical');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const NOW = new Date('2026-11-22T12:00:00Z');

const inputs = readdirSync(DIR)
  .filter((f) => f.endsWith('.json') && !/\.(expected|report)\.json$/.test(f))
  .sort()
  .map((f) => f.replace(/\.json$/, ''));

let deps: PipelineDeps;
beforeAll(() => {
  deps = { validator: Validator.create(), rules: loadRules(), terms: loadPackageTerms(), now: () => NOW };
});

/** The Bundle and report the CLI writes for a file read as a stream (no "entry" when nothing was accepted). */
async function translateFile(file: string): Promise<{ bundle: Bundle; report: unknown }> {
  const resources: Resource[] = [];
  const { summary, outcome } = await translateCanonical(scanTopLevel([readFileSync(file, 'utf8')]), deps, (list) => {
    resources.push(...list);
  });
  const bundle: Bundle = { resourceType: 'Bundle', type: 'transaction', ...(resources.length ? { entry: resources.map(putEntry) } : {}) };
  return { bundle, report: { summary, outcome } };
}

const pretty = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

it('has canonical inputs', () => {
  expect(inputs).toContain('riverbend-dana-whitfield');
});

describe.each(inputs)('examples/canonical/%s.json', (name) => {
  const input = join(DIR, `${name}.json`);
  const expectedFile = join(DIR, `${name}.expected.json`);
  const reportFile = join(DIR, `${name}.report.json`);
  let produced: { bundle: Bundle; report: unknown };
  beforeAll(async () => {
    produced = await translateFile(input);
    if (UPDATE) {
      writeFileSync(expectedFile, pretty(produced.bundle));
      writeFileSync(reportFile, pretty(produced.report));
    }
  });

  it(`gives ${name}.expected.json`, () => {
    expect(existsSync(expectedFile)).toBe(true);
    expect(produced.bundle).toStrictEqual(JSON.parse(readFileSync(expectedFile, 'utf8')));
  });

  it(`gives ${name}.report.json`, () => {
    expect(existsSync(reportFile)).toBe(true);
    expect(produced.report).toStrictEqual(JSON.parse(readFileSync(reportFile, 'utf8')));
  });

  it('gives the same resources from the parsed document', async () => {
    // A parsed document is processed episodes-before-people (Part 2 labels), a stream in file order:
    // the entries may come in another order, and a reference may then be Type/id rather than urn:uuid.
    const resources: Resource[] = [];
    await translateCanonical(documentEvents(JSON.parse(readFileSync(input, 'utf8'))), deps, (list) => {
      resources.push(...list);
    });
    const normal = (entries: unknown[]) =>
      entries.map((e) => JSON.stringify(e).replace(/"reference":"[A-Za-z]+\/([0-9a-f-]{36})"/g, '"reference":"urn:uuid:$1"')).sort();
    expect(normal(resources.map(putEntry))).toStrictEqual(normal(produced.bundle.entry ?? []));
  });

  it('the expected Bundle is a valid transaction', () => {
    const result = deps.validator.validate(JSON.parse(readFileSync(expectedFile, 'utf8')));
    expect(result.issues.filter((i) => i.severity === 'error' || i.severity === 'fatal')).toEqual([]);
    expect(result.valid).toBe(true);
  });
});
