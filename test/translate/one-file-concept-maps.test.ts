/**
 * The code tables of a one-file mapping become ConceptMaps as a folder's do (issue 13 item 2):
 * ids `<mapping>-<table>`, the title from the mapping's `title`, a description naming the file
 * and the table and repeating the mapping's `description`; published to the store (both drivers)
 * by loading a MAPPINGS_DIR that holds one-file mappings (examples/mappings/).
 */
import { join } from 'node:path';
import type { ConceptMap } from '@medplum/fhirtypes';
import { publishConceptMaps } from '../../src/pipeline/concept-maps';
import { conceptMaps, loadSource, loadSources } from '../../src/translate';
import { Validator } from '../../src/validation';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';

const EXAMPLES = join(__dirname, '..', '..', 'examples', 'mappings');

describe('ConceptMaps of one-file mappings', () => {
  test('acme-csv.yaml: one per table, titled and described from the mapping', () => {
    const maps = conceptMaps(loadSource(join(EXAMPLES, 'acme-csv.yaml')));
    expect(maps.map((m) => [m.id, m.title])).toEqual([
      ['acme-csv-mode', 'Acme EHR peer support export: mode codes'],
      ['acme-csv-status', 'Acme EHR peer support export: status codes'],
      ['acme-csv-sex', 'Acme EHR peer support export: sex codes'],
    ]);
    expect(maps[0].description).toContain('(acme-csv.yaml, tables, table mode)');
    expect(maps[0].description).not.toContain('mappings/acme-csv/tables.yaml');
    expect(maps[0].group?.[0].element).toContainEqual({ code: 'Phone', target: [{ code: 'telephone', equivalence: 'equivalent' }] });
  });

  test("the mapping's description and each table's are in the ConceptMap; every map validates", () => {
    const maps = conceptMaps(loadSource(join(EXAMPLES, 'wayfinder-page.yaml')));
    const visits = maps.find((m) => m.id === 'wayfinder-page-visit-status') as ConceptMap;
    expect(visits.title).toBe('Wayfinder Peer Connect page API (several lists per page): Wayfinder visit statuses');
    expect(visits.description).toContain('The mapping: One page of the vendor');
    const validator = Validator.create();
    for (const m of maps) expect(validator.validate(m).valid).toBe(true);
  });

  test('a folder mapping still names its tables.yaml', () => {
    const maps = conceptMaps(loadSource(join(__dirname, '..', '..', 'mappings', 'riverbend-csv')));
    expect(maps[0].description).toContain('riverbend-csv/tables.yaml, table');
  });
});

describe.each(DRIVERS)('publishing one-file mappings on %s', (driver) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await openTestStore(driver);
  });
  afterAll(() => store?.close());

  test('every one-file mapping of a mappings folder publishes its ConceptMaps, once', async () => {
    const sources = loadSources(EXAMPLES);
    expect([...sources.keys()].sort()).toEqual(expect.arrayContaining(['acme-csv', 'wayfinder-page']));
    const expected = [...sources.values()].flatMap((s) => conceptMaps(s)).length;
    expect(await publishConceptMaps(store.repo, sources)).toBe(expected);
    const stored = await store.repo.read<ConceptMap>('ConceptMap', 'acme-csv-mode');
    expect(stored.title).toBe('Acme EHR peer support export: mode codes');
    expect(await publishConceptMaps(store.repo, sources)).toBe(0);
  });
});
