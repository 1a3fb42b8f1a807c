/**
 * Line and column of validation issues (src/validation/positions.ts): located by the path syntax
 * the validator's `expression`s use, from one scan of the text.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ISSUE_COL_URL, ISSUE_LINE_URL, issuePosition, locate, pathSegments, withPositions } from '../../src/validation/positions';
import { issue, PROJECT_ROOT, Validator } from '../../src/validation';

/** Line and column of the first occurrence of `needle` in `text` (UTF-16 columns, 1-based). */
function find(text: string, needle: string, from = 0): { line: number; col: number } {
  const at = text.indexOf(needle, from);
  if (at < 0) throw new Error(`${needle} not in text`);
  const before = text.slice(0, at);
  const lines = before.split(/\r\n|\r|\n/);
  return { line: lines.length, col: lines[lines.length - 1].length + 1 };
}

const one = (text: string, expression?: string): { line: number; col: number } | undefined => locate(text, [expression])[0];

test('path segments: properties, indexes, choice names; the root type is dropped', () => {
  expect(pathSegments('Bundle.entry[2].resource.subject.reference')).toEqual(['entry', 2, 'resource', 'subject', 'reference']);
  expect(pathSegments('Observation.value[x]')).toEqual(['value[x]']);
  expect(pathSegments('Patient._birthDate.extension[0]')).toEqual(['_birthDate', 'extension', 0]);
  expect(pathSegments('Patient')).toEqual([]);
  // Anything not a plain path stops the segments (located at the part before it).
  expect(pathSegments("Patient.extension('http://x.org/a.b').value")).toEqual(['extension']);
});

test('nested arrays and objects, pretty-printed', () => {
  const doc = {
    resourceType: 'Bundle',
    entry: [
      { fullUrl: 'urn:uuid:1', resource: { resourceType: 'Patient', name: [{ given: ['A', 'B'] }] } },
      { fullUrl: 'urn:uuid:2', resource: { resourceType: 'Encounter', subject: { reference: 'Patient/1' } } },
    ],
  };
  const text = JSON.stringify(doc, null, 2);
  expect(one(text, 'Bundle.entry[1].resource.subject.reference')).toEqual(find(text, '"reference"'));
  expect(one(text, 'Bundle.entry[0].resource.name[0].given[1]')).toEqual(find(text, '"B"'));
  expect(one(text, 'Bundle.entry[1]')).toEqual(find(text, '{', text.lastIndexOf('{', text.indexOf('"urn:uuid:2"'))));
  expect(one(text, 'Bundle')).toEqual({ line: 1, col: 1 });
  expect(one(text)).toEqual({ line: 1, col: 1 });
});

test('arrays of arrays and a minified text', () => {
  const text = '{"resourceType":"X","a":[[1,2],[3,{"b":[true,{"c":null}]}]]}';
  expect(one(text, 'X.a[1][1].b[1].c')).toEqual({ line: 1, col: text.indexOf('"c"') + 1 });
  expect(one(text, 'X.a[1][0]')).toEqual({ line: 1, col: text.indexOf('3') + 1 });
});

test('escapes in strings and in property names do not throw the scan off', () => {
  const text = '{"resourceType":"Patient",\n "text":"a \\"quoted\\" \\\\ \\u0041 {[",\n "na\\u006de":[{"family":"F"}]}';
  expect(JSON.parse(text)).toBeTruthy();
  expect(one(text, 'Patient.name[0].family')).toEqual(find(text, '"family"'));
});

test('columns count UTF-16 code units, after non-ASCII text', () => {
  const text = '{"resourceType":"Patient","x":"é😀","id":"a"}';
  // é is one unit, 😀 two: the same count as String.prototype.indexOf.
  expect(one(text, 'Patient.id')).toEqual({ line: 1, col: text.indexOf('"id"') + 1 });
  expect(text.indexOf('"id"')).toBe(36);
});

test('CRLF and lone CR line ends', () => {
  const text = '{\r\n  "resourceType": "Patient",\r\n  "id": "a",\r  "gender": "x"\r\n}';
  expect(one(text, 'Patient.id')).toEqual({ line: 3, col: 3 });
  expect(one(text, 'Patient.gender')).toEqual({ line: 4, col: 3 });
});

test("a primitive's extension is found through its _name sibling", () => {
  const text = JSON.stringify(
    {
      resourceType: 'Patient',
      birthDate: '1990-01-01',
      _birthDate: { extension: [{ url: 'u', valueDateTime: '1990-01-01T10:00:00Z' }] },
      name: [{ given: ['A', 'B'], _given: [null, { extension: [{ url: 'v' }] }] }],
    },
    null,
    1,
  );
  expect(one(text, 'Patient.birthDate')).toEqual(find(text, '"birthDate"'));
  expect(one(text, 'Patient.birthDate.extension[0].valueDateTime')).toEqual(find(text, '"valueDateTime"'));
  expect(one(text, 'Patient._birthDate.extension[0]')).toEqual(find(text, '{', text.indexOf('"extension"')));
  expect(one(text, 'Patient.name[0].given[1]')).toEqual(find(text, '"B"'));
  expect(one(text, 'Patient.name[0].given[1].extension[0].url')).toEqual(find(text, '"url"', text.indexOf('"_given"')));
  // Only the _name sibling holds the item: it is used.
  const shadowOnly = '{"resourceType":"Patient","_gender":{"id":"g"}}';
  expect(one(shadowOnly, 'Patient.gender')).toEqual({ line: 1, col: shadowOnly.indexOf('"_gender"') + 1 });
});

test('contained resources', () => {
  const text = JSON.stringify(
    {
      resourceType: 'Patient',
      contained: [
        { resourceType: 'Organization', id: 'o' },
        { resourceType: 'Practitioner', id: 'p', name: [{ family: 'Q' }] },
      ],
    },
    null,
    2,
  );
  expect(one(text, 'Patient.contained[1].name[0].family')).toEqual(find(text, '"family"'));
  expect(one(text, 'Patient.contained[1]')).toEqual(find(text, '{', text.indexOf('"o"')));
});

test('a path to a missing element is located at its nearest existing parent', () => {
  const text = JSON.stringify({ resourceType: 'Encounter', status: 'finished', period: { start: '2026-01-01' } }, null, 2);
  expect(one(text, 'Encounter.period.end')).toEqual(find(text, '"period"'));
  expect(one(text, 'Encounter.subject')).toEqual({ line: 1, col: 1 });
  expect(one(text, 'Encounter.period.extension[3].url')).toEqual(find(text, '"period"'));
  expect(one(text, 'Encounter.status[4]')).toEqual(find(text, '"status"'));
});

test('choice types: value[x] matches valueQuantity, valueString, ...', () => {
  const text = JSON.stringify({ resourceType: 'Observation', status: 'final', valueQuantity: { value: 1, unit: 'mg' } }, null, 2);
  expect(one(text, 'Observation.value[x]')).toEqual(find(text, '"valueQuantity"'));
  expect(one(text, 'Observation.valueQuantity.unit')).toEqual(find(text, '"unit"'));
  expect(one(text, 'Observation.value[x].unit')).toEqual(find(text, '"unit"'));
  // Not a choice of `value`: `values` (lower case after the prefix).
  expect(one('{"resourceType":"X","values":1}', 'X.value[x]')).toEqual({ line: 1, col: 1 });
});

test('a base path: the resource inside a $validate Parameters body', () => {
  const text = JSON.stringify(
    {
      resourceType: 'Parameters',
      parameter: [
        { name: 'profile', valueUri: 'x' },
        { name: 'resource', resource: { resourceType: 'Patient', id: 'a b' } },
      ],
    },
    null,
    2,
  );
  expect(locate(text, ['Patient.id', undefined], ['parameter', 1, 'resource'])).toEqual([find(text, '"id"'), find(text, '"resource": {')]);
});

test('one scan for many issues; text that is not JSON gives what it found, never throws', () => {
  const text = '{"resourceType":"Patient","id":"a","gender":';
  expect(locate(text, ['Patient.id', 'Patient.gender', 'Patient.name'])).toEqual([
    { line: 1, col: 27 },
    { line: 1, col: 36 },
    { line: 1, col: 1 },
  ]);
  expect(locate('', ['Patient.id'])).toEqual([{ line: 1, col: 1 }]);
  expect(() => locate('{"a":"unterminated', ['X.a'])).not.toThrow();
  expect(() => locate('['.repeat(100_000), ['X'])).not.toThrow();
});

test('withPositions adds the standard issue extensions and leaves the issues given alone', () => {
  const text = '{\n  "resourceType": "Patient",\n  "id": "a b"\n}';
  const issues = [issue('error', 'value', 'Invalid id', 'Patient.id'), issue('warning', 'invariant', 'dom-6', 'Patient')];
  const located = withPositions(issues, text);
  expect(located[0].extension).toEqual([
    { url: ISSUE_LINE_URL, valueInteger: 3 },
    { url: ISSUE_COL_URL, valueInteger: 3 },
  ]);
  expect(issuePosition(located[1])).toEqual({ line: 1, col: 1 });
  expect(issues[0].extension).toBeUndefined();
  expect(located[0].details).toEqual(issues[0].details);
});

test('every issue the validator reports on the invalid examples is located at the element it names', () => {
  const validator = Validator.create();
  const dir = join(PROJECT_ROOT, 'examples', 'invalid');
  const rows = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as { file: string; expression: string }[];
  for (const row of rows) {
    const text = readFileSync(join(dir, row.file), 'utf8');
    const result = validator.validate(JSON.parse(text));
    const located = withPositions(result.issues, text);
    for (const i of located) {
      const pos = issuePosition(i);
      expect(pos).toBeDefined();
      const expression = i.expression?.[0];
      // At the name of a property on the issue's path (its own, or a parent's when it is missing), or at an item or the root.
      const names = (expression ?? '')
        .split('.')
        .slice(1)
        .map((s) => s.replace(/\[\d+\]/g, ''));
      const lineText = text.split(/\r?\n/)[(pos?.line ?? 1) - 1];
      const there = lineText.slice((pos?.col ?? 1) - 1);
      expect({
        file: row.file,
        expression,
        there: names.some((name) => there.startsWith(`"${name}"`)) || /^[{[]/.test(there) || /\]$/.test(expression ?? '') ? true : there,
      }).toEqual({ file: row.file, expression, there: true });
    }
  }
});
