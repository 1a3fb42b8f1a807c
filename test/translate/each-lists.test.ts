/**
 * A list of each rules for one target (src/translate/compile.ts compileField, fields.ts runEach):
 * one list of objects, the items of each rule after those of the one before (HL7 v2 PID-13 home
 * and PID-14 business phones, mappings/hl7v2/adt.yaml); anything else in the list fails at load.
 */
import type { SourceRecord } from '../../src/inbound/source';
import { type Feed, type LoadedSource, loadSource, mapRecord } from '../../src/translate';
import { jsonRecord, sourceYaml, writeMapping } from './helpers';

function load(format: 'csv' | 'json' | 'hl7v2', feed: string): { source: LoadedSource; feed: Feed } {
  const source = loadSource(writeMapping({ 'source.yaml': sourceYaml(format), 'feed.yaml': feed }));
  return { source, feed: source.feeds[0] };
}

function one(source: LoadedSource, feed: Feed, record: SourceRecord) {
  const out = mapRecord(source, feed, record);
  expect(out.issues).toEqual([]);
  return out.results;
}

describe('a list of each rules', () => {
  const feed = (telecom: string): string => `match: "*.json"
records:
  - record: person
    fields:
      id: id
      name.family: last
      telecom:
${telecom}`;
  const LIST = `        - each: home
          fields:
            value: number
            use: { const: home }
        - each: work
          when: { path: kind, not: fax }
          fields:
            value: number
            use: { const: work }`;

  test('makes one list: the items of each rule after those of the one before, each with its own when', () => {
    const { source, feed: f } = load('json', feed(LIST));
    const [r] = one(
      source,
      f,
      jsonRecord({ id: 'P-1', last: 'Doe', home: [{ number: '1' }, { number: '2' }], work: [{ number: '3' }, { number: '4', kind: 'fax' }] }),
    );
    expect(r.value.telecom).toEqual([
      { value: '1', use: 'home' },
      { value: '2', use: 'home' },
      { value: '3', use: 'work' },
    ]);
    expect(r.trace).toMatchObject({ 'telecom[1].value': '$[0].home[1].number', 'telecom[2].value': '$[0].work[0].number' });
    // No home list: the work items alone.
    const [w] = one(source, f, jsonRecord({ id: 'P-2', last: 'Roe', work: [{ number: '9' }] }));
    expect(w.value.telecom).toEqual([{ value: '9', use: 'work' }]);
  });

  test('an item of the list that is not an each rule with fields fails at load, naming file, line and field', () => {
    expect(() => load('json', feed(`        - each: home\n          fields: { value: number }\n        - number`))).toThrow(
      /feed\.yaml line 10, records\[0\]\.fields\.telecom\[1\]: a list of rules is a list of each rules/,
    );
    expect(() => load('json', feed(`        - each: home\n          fields: { value: number }\n        - { each: work, from: number }`))).toThrow(
      /feed\.yaml line 10, records\[0\]\.fields\.telecom\[1\]: the items of person\.telecom takes an object/,
    );
  });
});
