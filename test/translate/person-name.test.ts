import { loadSource, mapRecord } from '../../src/translate';
import { splitName } from '../../src/translate/transforms';
import { csvRecords, sourceYaml, writeMapping } from './helpers';

describe('splitName', () => {
  test.each([
    ['Lopez, Marisol', { family: 'Lopez', given: ['Marisol'] }],
    ['Lopez,Marisol A.', { family: 'Lopez', given: ['Marisol', 'A.'] }],
    ['  de la Cruz ,  Ana  Maria ', { family: 'de la Cruz', given: ['Ana', 'Maria'] }],
    ['Marisol Lopez', { family: 'Lopez', given: ['Marisol'] }],
    ['Marisol A.  Lopez', { family: 'Lopez', given: ['Marisol', 'A.'] }],
    ['Cher', { family: 'Cher', given: [] }],
    [', Ana', { given: ['Ana'] }],
    ['Lopez,', { family: 'Lopez', given: [] }],
  ])('%s', (text, want) => {
    expect(splitName(text)).toEqual(want);
  });
});

describe('person-name step: a staff column becomes a practitioner', () => {
  const source = loadSource(
    writeMapping({
      'source.yaml': sourceYaml(),
      'feed.yaml': `match: "*.csv"
records:
  - record: practitioner
    fields:
      id: { from: Staff, transform: hash }
      role: { const: peer-specialist }
      organizationId: { const: org-1 }
      name.family: { from: Staff, transform: { person-name: family } }
      name.given: { from: Staff, transform: { person-name: given } }
      credential.code: { const: paraprofessional-peer }
`,
    }),
  );
  test('"Family, Given" and "Given Family" give the same name; the credential comes from the mapping', () => {
    const [a, b] = csvRecords(['Staff'], [['Lopez, Marisol'], ['Marisol Lopez']]);
    const va = mapRecord(source, source.feeds[0], a).results[0];
    const vb = mapRecord(source, source.feeds[0], b).results[0];
    expect(va.issues).toEqual([]);
    expect(va.value).toMatchObject({ role: 'peer-specialist', name: { family: 'Lopez', given: ['Marisol'] }, credential: { code: 'paraprofessional-peer' } });
    expect(vb.value.name).toEqual(va.value.name);
    expect(va.trace['name.given[0]']).toBe('line 2, column "Staff"');
  });
  test('given is a list: into a one-value target it is refused at load', () => {
    expect(() =>
      loadSource(
        writeMapping({
          'source.yaml': sourceYaml(),
          'feed.yaml': `match: "*.csv"\nrecords:\n  - record: person\n    fields:\n      id: A\n      name.family: { from: Staff, transform: { person-name: given } }\n`,
        }),
      ),
    ).toThrow(/name\.family takes .*list/);
  });
});
