/**
 * One JSON page holding several lists (issue 13 item 2): examples/mappings/wayfinder-page.yaml
 * reads examples/outside/wayfinder-page/page.json with a feed per list (data.clients, data.staff,
 * data.enrollments, data.visits). Each list is read as its own records: counted per feed, located
 * as `$.data.visits[3]`, and a bad visit is rejected alone with only its own JSON as raw input.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { loadRules } from '../../src/domain/rules';
import { loadPackageTerms } from '../../src/fhir/context';
import type { PipelineDeps } from '../../src/pipeline/canonical';
import { inputsFromPath, translateSource, type RejectRecord } from '../../src/pipeline/translate-source';
import { loadSource } from '../../src/translate';
import { Validator } from '../../src/validation';
import { formatSourceReport } from '../../src/cli/translate';

const ROOT = join(__dirname, '..', '..');
const PAGE = join(ROOT, 'examples', 'outside', 'wayfinder-page', 'page.json');
const NOW = new Date('2026-11-22T12:00:00Z');

let deps: PipelineDeps;
beforeAll(() => {
  deps = { validator: Validator.create(), rules: loadRules(), terms: loadPackageTerms(), now: () => NOW };
});

async function run(chunks?: string) {
  const source = loadSource(join(ROOT, 'examples', 'mappings', 'wayfinder-page.yaml'));
  const rejects: RejectRecord[] = [];
  const resources: Resource[] = [];
  const inputs = chunks === undefined ? inputsFromPath(PAGE, source) : [{ name: 'page.json', chunks: [chunks] }];
  const report = await translateSource(source, inputs, deps, (list) => void resources.push(...list), { onReject: (r) => void rejects.push(r) });
  return { report, rejects, resources };
}

describe('one JSON page, several lists', () => {
  test('each list is read by its own feed and counted: 14 visits read, 12 accepted, 2 rejected', async () => {
    const { report, resources } = await run();
    expect(report.inputs).toEqual([
      { name: 'page.json', feed: 'clients', read: 3 },
      { name: 'page.json', feed: 'staff', read: 2 },
      { name: 'page.json', feed: 'enrollments', read: 3 },
      { name: 'page.json', feed: 'visits', read: 14 },
    ]);
    expect(report.records).toEqual({ read: 22, accepted: 20, rejected: 2, skipped: 0 });
    expect(report.summary.byKind.contact).toEqual({ read: 14, accepted: 12, rejected: 2 });
    expect(resources.filter((r) => r.resourceType === 'Encounter')).toHaveLength(12);
    expect(resources.filter((r) => r.resourceType === 'EpisodeOfCare')).toHaveLength(3);
    const text = formatSourceReport(report);
    expect(text).toContain('page.json (feed visits): 14 read');
    expect(text).toContain('Source records: 22 read, 20 accepted, 2 rejected');
  });

  test('a bad visit is located at $.data.visits[n] and carries only its own JSON', async () => {
    const { rejects } = await run();
    const page = JSON.parse(readFileSync(PAGE, 'utf8')) as { data: { visits: unknown[] } };
    expect(rejects.map((r) => [r.feed, r.record, r.where, r.errors.map((e) => e.source)])).toEqual([
      ['visits', 4, '$.data.visits[3]', ['$.data.visits[3].modality']],
      ['visits', 10, '$.data.visits[9]', ['$.data.visits[9].startsAt']],
    ]);
    expect(JSON.parse(rejects[0].raw)).toEqual(page.data.visits[3]);
    expect(JSON.parse(rejects[1].raw)).toEqual(page.data.visits[9]);
    expect(rejects[0].raw.length).toBeLessThan(300);
  });

  test('a list the page lacks gives no records for its feed; the others are still read', async () => {
    const page = JSON.parse(readFileSync(PAGE, 'utf8')) as { data: Record<string, unknown> };
    delete page.data.visits;
    const { report, rejects } = await run(JSON.stringify(page));
    expect(report.inputs.map((i) => [i.feed, i.read])).toEqual([
      ['clients', 3],
      ['staff', 2],
      ['enrollments', 3],
      ['visits', 0],
    ]);
    expect(rejects).toEqual([]);
  });

  test('a page that is not JSON stops at the first feed with a fatal issue, not a 500', async () => {
    const { report } = await run('{"data": {"clients": [');
    expect(report.fatal).toBeDefined();
  });
});
