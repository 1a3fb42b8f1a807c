/**
 * The files in examples/ are the fixtures: every valid example passes with no error or warning,
 * every invalid one produces the error its row in examples/invalid/expected.json names.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validator } from '../../src/validation';

const root = join(__dirname, '..', '..', 'examples');
interface Row {
  file: string;
  rule: string;
  expression: string;
  message: string;
}
const rows = JSON.parse(readFileSync(join(root, 'invalid', 'expected.json'), 'utf8')) as Row[];
const validFiles = readdirSync(join(root, 'valid')).filter((f) => f.endsWith('.json'));

let validator: Validator;
beforeAll(() => {
  validator = Validator.create();
});

test('there is at least one valid example per PeerBridge resource profile', () => {
  const claimed = new Set<string>();
  const collect = (r: { meta?: { profile?: string[] }; entry?: { resource?: unknown }[] }): void => {
    r.meta?.profile?.forEach((p) => claimed.add(p));
    r.entry?.forEach((e) => collect(e.resource as typeof r));
  };
  for (const f of validFiles) {
    collect(JSON.parse(readFileSync(join(root, 'valid', f), 'utf8')));
  }
  expect(validator.profileUrls().filter((p) => !claimed.has(p))).toEqual([]);
});

test.each(validFiles)('valid/%s has no error or warning', (file) => {
  const r = validator.validate(JSON.parse(readFileSync(join(root, 'valid', file), 'utf8')));
  expect(r.issues.map((i) => `${i.severity} ${i.expression?.[0]}: ${i.details?.text}`)).toEqual([]);
});

test('at least 25 invalid examples, one row each', () => {
  const files = readdirSync(join(root, 'invalid')).filter((f) => f.endsWith('.json') && f !== 'expected.json');
  expect(files.length).toBeGreaterThanOrEqual(25);
  expect(rows.map((r) => r.file).sort()).toEqual(files.sort());
});

test.each(rows.map((r) => [r.file, r] as const))('invalid/%s is rejected for the right reason', (_file, row) => {
  const r = validator.validate(JSON.parse(readFileSync(join(root, 'invalid', row.file), 'utf8')));
  expect(r.valid).toBe(false);
  const errors = r.issues.filter((i) => i.severity === 'error');
  const hit = errors.find((i) => (i.expression?.[0] ?? '') === row.expression && (i.details?.text ?? '').includes(row.message));
  expect(hit ? 'found' : errors.map((i) => `${i.expression?.[0]}: ${i.details?.text}`)).toBe('found');
});
