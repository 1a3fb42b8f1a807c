/**
 * `peerbridge validate` with validator_cli users' habits: line and column per issue, per-file
 * Success/FAILURE counts, --output, --level, --help, --version, non-FHIR files skipped in
 * directories, a progress bar on a terminal, and a directory on every core with the results of one.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { main } from '../../src/cli';
import { VALIDATE_HELP } from '../../src/cli/validate';
import { PROJECT_ROOT, ValidationPool } from '../../src/validation';
import { ISSUE_COL_URL, ISSUE_LINE_URL } from '../../src/validation/positions';
import { run } from './run-cli';

const LINE = ISSUE_LINE_URL;
const narrative = { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' };
let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'pb-cli-opts-'));
  mkdirSync(join(tmp, 'dir'));
  // Pretty-printed: the id is on line 3, column 3; no narrative: a dom-6 warning.
  writeFileSync(join(tmp, 'bad.json'), JSON.stringify({ resourceType: 'Patient', id: 'p 1', gender: 'female' }, null, 2));
  writeFileSync(join(tmp, 'good.json'), JSON.stringify({ resourceType: 'Patient', id: 'g', text: narrative }, null, 2));
  writeFileSync(join(tmp, 'dir', 'a.json'), JSON.stringify({ resourceType: 'Patient', id: 'a', text: narrative }));
  writeFileSync(join(tmp, 'dir', 'report.json'), JSON.stringify({ accepted: 3, rejected: [] }));
  writeFileSync(join(tmp, 'dir', 'table.json'), JSON.stringify([{ file: 'x.json', rule: 'r' }]));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test('each issue line starts with file:line:col', async () => {
  const r = await run('validate', join(tmp, 'bad.json'));
  expect(r.code).toBe(1);
  expect(r.out).toMatch(/bad\.json:3:3: error +\[Patient\/p 1\] Patient\.id: Invalid resource id/);
  expect(r.out).toMatch(/bad\.json:1:1: warning +\[Patient\/p 1\] Patient: .*dom-6/);
});

test('JSON output: issues carry the operationoutcome-issue-line and -col extensions', async () => {
  const r = await run('validate', '--format', 'json', join(tmp, 'bad.json'));
  const line = JSON.parse(r.out.trim()) as { outcome: OperationOutcome };
  const idIssue = line.outcome.issue.find((i) => i.expression?.[0] === 'Patient.id');
  expect(idIssue?.extension).toEqual([
    { url: ISSUE_LINE_URL, valueInteger: 3 },
    { url: ISSUE_COL_URL, valueInteger: 3 },
  ]);
});

test('a verdict line per file with Success/FAILURE and counts of errors, warnings and notes', async () => {
  const bad = await run('validate', join(tmp, 'bad.json'));
  expect(bad.out).toMatch(/^INVALID .*bad\.json {2}FAILURE: 1 error, 1 warning, 0 notes$/m);
  const good = await run('validate', join(tmp, 'good.json'));
  expect(good.out).toMatch(/^VALID +.*good\.json {2}Success: 0 errors, 0 warnings, 0 notes$/m);
});

test('--level error hides warnings (counted still), in text and JSON', async () => {
  const text = await run('validate', '--level', 'error', join(tmp, 'bad.json'));
  expect(text.out).toMatch(/FAILURE: 1 error, 1 warning/);
  expect(text.out).not.toMatch(/dom-6/);
  const json = await run('validate', '--level=error', '--format', 'json', join(tmp, 'bad.json'));
  const outcome = (JSON.parse(json.out.trim()) as { outcome: OperationOutcome }).outcome;
  expect(outcome.issue.map((i) => i.severity)).toEqual(['error']);
  const good = await run('validate', '--level', 'error', '--format', 'json', join(tmp, 'dir', 'a.json'));
  expect((JSON.parse(good.out.trim()) as { outcome: OperationOutcome }).outcome.issue[0].details?.text).toBe('No issues found');
  expect((await run('validate', '--level', 'hint', join(tmp, 'bad.json'))).code).toBe(2);
});

test('--output: one file writes its OperationOutcome, several a Bundle of them naming each file', async () => {
  const one = join(tmp, 'one.out.json');
  await run('validate', '--output', one, join(tmp, 'bad.json'));
  const oo = JSON.parse(readFileSync(one, 'utf8')) as OperationOutcome;
  expect(oo.resourceType).toBe('OperationOutcome');
  expect(oo.extension).toEqual([{ url: 'http://hl7.org/fhir/StructureDefinition/operationoutcome-file', valueString: join(tmp, 'bad.json') }]);
  expect(oo.issue.find((i) => i.expression?.[0] === 'Patient.id')?.extension?.find((x) => x.url === LINE)?.valueInteger).toBe(3);

  const many = join(tmp, 'many.out.json');
  const r = await run('validate', '--output', many, '--level', 'error', join(tmp, 'good.json'), join(tmp, 'bad.json'));
  expect(r.code).toBe(1);
  const bundle = JSON.parse(readFileSync(many, 'utf8')) as Bundle<OperationOutcome>;
  expect(bundle.resourceType).toBe('Bundle');
  expect(bundle.type).toBe('collection');
  expect(bundle.entry?.map((e) => e.resource?.extension?.[0].valueString)).toEqual([join(tmp, 'good.json'), join(tmp, 'bad.json')]);
  expect(bundle.entry?.[1].resource?.issue.map((i) => i.severity)).toEqual(['error']);

  const unwritable = await run('validate', '--output', join(tmp, 'no-such-dir', 'x.json'), join(tmp, 'good.json'));
  expect(unwritable.code).toBe(2);
  expect(unwritable.err).toMatch(/Cannot write/);
});

test('--help describes every option; --version prints the version', async () => {
  const help = await run('validate', '--help');
  expect(help.code).toBe(0);
  expect(help.out).toBe(VALIDATE_HELP);
  for (const option of ['--profile', '--strict-profiles', '--format', '--output', '--level', '--threads', '--max-bytes', '--no-progress', '--help']) {
    expect(help.out).toMatch(new RegExp(`^ +(-h, )?${option}\\b[^\\n]*\\s{2,}\\S`, 'm'));
  }
  const version = await run('--version');
  expect(version.code).toBe(0);
  expect(version.out).toBe(`peerbridge ${(JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version}\n`);
});

test('an unknown profile in meta.profile: a warning and exit 0; --strict-profiles makes it an error, on workers too', async () => {
  const url = 'http://example.org/fhir/StructureDefinition/unknown-patient';
  const dir = join(tmp, 'profiled');
  mkdirSync(dir);
  for (const id of ['a', 'b']) {
    writeFileSync(join(dir, `${id}.json`), JSON.stringify({ resourceType: 'Patient', id, meta: { profile: [url] }, text: narrative }, null, 2));
  }
  const r = await run('validate', join(dir, 'a.json'));
  expect(r.code).toBe(0);
  expect(r.out).toMatch(
    /a\.json:6:7: warning +\[Patient\/a\] Patient\.meta\.profile\[0\]: Profile reference '.*unknown-patient' has not been checked because it is unknown/,
  );
  const strict = await run('validate', '--strict-profiles', join(dir, 'a.json'));
  expect(strict.code).toBe(1);
  expect(strict.out).toMatch(/a\.json:6:7: error +\[Patient\/a\] Patient\.meta\.profile\[0\]: Profile reference/);
  const workers = await run('validate', '--strict-profiles', '--threads', '2', dir);
  expect(workers.code).toBe(1);
  expect(workers.out).toMatch(/2 file\(s\) checked: 0 valid, 2 invalid/);
});

test('in a directory, JSON that is not a FHIR resource is skipped with a note; named on the command line it is invalid', async () => {
  const r = await run('validate', join(tmp, 'dir'));
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/^SKIPPED .*report\.json {2}not a FHIR resource \(no resourceType\)$/m);
  expect(r.out).toMatch(/^SKIPPED .*table\.json/m);
  expect(r.out).toMatch(/3 file\(s\) checked: 1 valid, 0 invalid, 2 skipped/);
  const json = await run('validate', '--format', 'json', join(tmp, 'dir'));
  expect(JSON.parse(json.out.trim().split('\n')[1])).toMatchObject({ valid: true, skipped: true });
  expect((await run('validate', join(tmp, 'dir', 'report.json'))).code).toBe(1);
});

test('examples/: reports and test tables are skipped; every invalid example still fails, every valid one passes', async () => {
  const r = await run('validate', '--threads', '1', join(PROJECT_ROOT, 'examples'));
  expect(r.code).toBe(1);
  const verdicts = new Map(
    r.out
      .split('\n')
      .filter((l) => /^(VALID|INVALID|SKIPPED)/.test(l))
      .map((l) => [l.split(/\s+/)[1], l.split(/\s+/)[0]] as const),
  );
  const expected = JSON.parse(readFileSync(join(PROJECT_ROOT, 'examples', 'invalid', 'expected.json'), 'utf8')) as { file: string }[];
  for (const { file } of expected)
    expect([file, verdicts.get(join(PROJECT_ROOT, 'examples', 'invalid', file).replace(process.cwd() + '/', ''))]).toEqual([file, 'INVALID']);
  expect(verdicts.get('examples/invalid/expected.json')).toBe('SKIPPED');
  expect(verdicts.get('examples/canonical/bad-records.report.json')).toBe('SKIPPED');
  for (const [file, verdict] of verdicts) {
    if (file.startsWith('examples/valid/')) expect([file, verdict]).toEqual([file, 'VALID']);
  }
});

test('a directory on several worker threads gives exactly what one thread gives, in the same order', async () => {
  const spy = jest.spyOn(ValidationPool.prototype, 'validateTexts');
  const examples = join(PROJECT_ROOT, 'examples');
  try {
    const one = await run('validate', '--threads', '1', examples);
    expect(spy).not.toHaveBeenCalled();
    const many = await run('validate', '--threads', '3', examples);
    expect(spy).toHaveBeenCalled();
    expect(many.out).toBe(one.out);
    expect(many.code).toBe(one.code);
    const jsonOne = await run('validate', '--format', 'json', '--threads', '1', examples);
    const jsonMany = await run('validate', '--format', 'json', '--threads', '2', examples);
    expect(jsonMany.out).toBe(jsonOne.out);
  } finally {
    spy.mockRestore();
  }
}, 120_000);

class Terminal extends Writable {
  text = '';
  isTTY = true;
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

test('a progress bar on stderr for a directory when stdout and stderr are terminals, none otherwise', async () => {
  const out = new Terminal();
  const err = new Terminal();
  await main(['validate', join(tmp, 'dir')], out, err);
  expect(err.text).toMatch(/\r.*files/);
  expect(err.text.endsWith('\r\x1b[K')).toBe(true);

  const piped = new Terminal();
  piped.isTTY = false;
  const err2 = new Terminal();
  await main(['validate', join(tmp, 'dir')], piped, err2);
  expect(err2.text).toBe('');
  const err3 = new Terminal();
  await main(['validate', '--no-progress', join(tmp, 'dir')], new Terminal(), err3);
  expect(err3.text).toBe('');
});
