/**
 * Rules tied to datatypes, written from the R4 specification: Attachment size/hash against data,
 * per-1 with mixed precision, HTML in string/markdown, example-domain attachment URLs, UCUM
 * units, and displays of codes from code systems held in full.
 */
import { base64DecodedLength, checkAttachment } from '../../../src/validation/rules/attachment';
import { checkCodingDisplay } from '../../../src/validation/rules/coding-display';
import { isExampleUrl } from '../../../src/validation/rules/example-urls';
import { looksLikeHtml } from '../../../src/validation/rules/html-in-strings';
import { checkPeriod, lessOrEqual } from '../../../src/validation/rules/period';
import { ucumProblem } from '../../../src/validation/rules/ucum';
import { errorsOf, lines, recorder } from './support';

const HELLO = Buffer.from('hello').toString('base64'); // 5 bytes
const HELLO_SHA1 = 'qvTGHdzF6KLavt4PO0gs2a6pQ00=';

function docRef(attachment: Record<string, unknown>): Record<string, unknown> {
  return { resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { contentType: 'text/plain', ...attachment } }] };
}

describe('Attachment size and hash agree with data', () => {
  test('base64 decoded length without decoding', () => {
    for (const s of ['', 'a', 'ab', 'abc', 'hello', 'a longer text, with padding!!']) {
      const b64 = Buffer.from(s).toString('base64');
      expect(base64DecodedLength(b64)).toBe(s.length);
      expect(base64DecodedLength(b64.replace(/(.{4})/g, '$1\n '))).toBe(s.length);
    }
  });

  test('right size and hash pass; wrong ones are errors at size and hash', () => {
    expect(errorsOf(docRef({ data: HELLO, size: 5, hash: HELLO_SHA1 }))).toEqual([]);
    expect(lines(errorsOf(docRef({ data: HELLO, size: 4, hash: 'AAAA' })))).toEqual([
      'error DocumentReference.content[0].attachment.size: Stated Attachment size 4 does not match the size of the data, 5 bytes',
      `error DocumentReference.content[0].attachment.hash: Stated Attachment hash AAAA does not match the SHA-1 of the data, ${HELLO_SHA1}`,
    ]);
  });

  test('no data, nothing to compare', () => {
    const { report, got } = recorder();
    checkAttachment({ url: 'https://files.peerbridge.org/x', size: 10, hash: 'AAAA' }, 'Attachment', report);
    expect(got).toEqual([]);
  });
});

describe('per-1 with dates of different precision', () => {
  const encounter = (start: string, end: string): Record<string, unknown> => ({
    resourceType: 'Encounter',
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    period: { start, end },
  });

  test('start 2023-06-21, end 2023-06-21T06:20:00Z: the comparison is empty, so per-1 fails (as the reference evaluates it)', () => {
    expect(lines(errorsOf(encounter('2023-06-21', '2023-06-21T06:20:00Z')))).toEqual([
      expect.stringMatching(/^error Encounter.period: Period start \(2023-06-21\) and end \(2023-06-21T06:20:00Z\) have different precisions.*\(per-1\)$/),
    ]);
  });

  test('different days decide whatever the precision; same precision compares instants', () => {
    expect(errorsOf(encounter('2023-06-20', '2023-06-21T06:20:00Z'))).toEqual([]);
    expect(lines(errorsOf(encounter('2023-06-22', '2023-06-21T06:20:00Z')))).toEqual([
      'error Encounter.period: Period starts (2023-06-22) after it ends (2023-06-21T06:20:00Z) (per-1)',
    ]);
    expect(errorsOf(encounter('2023-06-21T10:00:00-05:00', '2023-06-21T16:00:00Z'))).toEqual([]);
    expect(errorsOf(encounter('2023-06-21T10:00:00-05:00', '2023-06-21T14:00:00Z'))).toHaveLength(1);
  });

  test.each([
    ['2023', '2024', true],
    ['2023-06', '2023-06-21', undefined],
    ['2023-06-21', '2023-06-21', true],
    ['2023-06-21T10:00:00.5Z', '2023-06-21T10:00:00Z', false],
    ['2023-06-21T10:00:00Z', '2023-06-21T10:00:00.000Z', true],
  ])('%s <= %s is %s', (a, b, expected) => {
    expect(lessOrEqual(a, b)).toBe(expected);
  });

  test('an open period is fine', () => {
    const { report, got } = recorder();
    checkPeriod({ start: '2023-06-21' }, 'Period', report);
    expect(got).toEqual([]);
  });
});

describe('strings and markdown with embedded HTML tags', () => {
  test.each(['Bob <script>alert(1)</script>', 'see <a href="https://x.test">here</a>', '<img src=x onerror=alert(1)>', '<b>bold</b> text', '<iframe src="https://x.test">'])(
    'flagged: %s',
    (text) => expect(looksLikeHtml(text)).toBe(true),
  );
  test.each(['a < b and c > d', 'dose <5 mg', 'BP <140/90>', 'x<y', 'use <n> for the count', 'no markup'])('not flagged: %s', (text) =>
    expect(looksLikeHtml(text)).toBe(false),
  );

  test('an error on a string and on markdown, none on the narrative', () => {
    const patient = {
      resourceType: 'Patient',
      text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><b>Bob</b></div>' },
      name: [{ text: 'Bob <script>alert(1)</script>' }],
    };
    expect(lines(errorsOf(patient))).toEqual([
      'error Patient.name[0].text: The string value contains text that looks like embedded HTML tags; it may be unsafe wherever it is shown as HTML (use the narrative for markup)',
    ]);
    const note = { resourceType: 'Observation', status: 'final', code: { text: 'x' }, note: [{ text: 'See <a href="https://x.test">this</a>' }] };
    expect(lines(errorsOf(note))).toEqual([expect.stringMatching(/^error Observation.note\[0\].text: The markdown value contains text that looks like embedded HTML/)]);
  });
});

describe('example-domain URLs in Attachment.url', () => {
  test.each([
    ['http://example.org/docs/1.pdf', true],
    ['https://www.example.com/x', true],
    ['http://acme.com/x', true],
    ['https://files.example.net', true],
    ['https://example.organisation.test/x', false],
    ['https://peerbridge.org/x', false],
    ['urn:uuid:example.org', false],
  ])('%s: %s', (url, expected) => expect(isExampleUrl(url)).toBe(expected));

  test('a DocumentReference pointing at example.org is an error; a real host is fine', () => {
    expect(lines(errorsOf(docRef({ url: 'http://example.org/xds/doc.pdf' })))).toEqual([
      'error DocumentReference.content[0].attachment.url: Example URLs are not allowed in this context (http://example.org/xds/doc.pdf): an attachment must point where its content can be fetched',
    ]);
    expect(errorsOf(docRef({ url: 'https://docs.peerbridge.org/xds/doc.pdf' }))).toEqual([]);
  });
});

describe('UCUM units', () => {
  const obs = (valueQuantity: Record<string, unknown>): Record<string, unknown> => ({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueQuantity });

  test.each(['mg', 'mm[Hg]', 'kg/m2', '/min', '{score}', '10*3/uL', '%', 'Cel', '[lb_av]', 'g.m-2'])('valid: %s', (code) => expect(ucumProblem(code)).toBeNull());
  test.each(['blargh', 'cel', 'mg/', 'kg//m'])('invalid: %s', (code) => expect(ucumProblem(code)).toEqual(expect.any(String)));

  test('an invalid UCUM code is an error at code; other systems are not checked', () => {
    expect(lines(errorsOf(obs({ value: 1, unit: 'x', system: 'http://unitsofmeasure.org', code: 'blargh' })))).toEqual([
      expect.stringMatching(/^error Observation.valueQuantity.code: The UCUM code 'blargh' is not valid/),
    ]);
    expect(errorsOf(obs({ value: 1, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' }))).toEqual([]);
    expect(errorsOf(obs({ value: 1, unit: 'tablet', system: 'http://snomed.info/sct', code: '385055001' }))).toEqual([]);
  });

  test('Age and Duration are Quantities too', () => {
    const condition = {
      resourceType: 'Condition',
      subject: { reference: 'Patient/p1' },
      onsetAge: { value: 30, system: 'http://unitsofmeasure.org', code: 'yrs' },
    };
    expect(lines(errorsOf(condition))).toContainEqual(expect.stringMatching(/^error Condition.onsetAge.code: The UCUM code 'yrs' is not valid/));
  });
});

describe('displays of codes from code systems held in full', () => {
  const obs = (display: string): Record<string, unknown> => ({
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display }] }],
    code: { text: 'x' },
  });

  test('a wrong display is an error naming the valid one', () => {
    expect(lines(errorsOf(obs('Vitals')))).toEqual([
      "error Observation.category[0].coding[0].display: Wrong display 'Vitals' for http://terminology.hl7.org/CodeSystem/observation-category#vital-signs: the valid display is 'Vital Signs'",
    ]);
  });

  test('the display, differing only in case or spacing, is fine', () => {
    expect(errorsOf(obs('Vital Signs'))).toEqual([]);
    expect(errorsOf(obs('vital  signs'))).toEqual([]);
  });

  test('designations count as displays; systems not held are not judged', () => {
    const { report, got } = recorder();
    const lookup = (system: string): Record<string, string[]> | undefined => (system === 'urn:s' ? { a: ['Alpha', 'Alfa'] } : undefined);
    checkCodingDisplay({ system: 'urn:s', code: 'a', display: 'Alfa' }, 'Coding', report, lookup);
    checkCodingDisplay({ system: 'urn:other', code: 'a', display: 'Anything' }, 'Coding', report, lookup);
    expect(got).toEqual([]);
    checkCodingDisplay({ system: 'urn:s', code: 'a', display: 'Beta' }, 'Coding', report, lookup);
    expect(got).toEqual(["error code-invalid Coding.display: Wrong display 'Beta' for urn:s#a: the valid display is one of 'Alpha', 'Alfa'"]);
  });
});
