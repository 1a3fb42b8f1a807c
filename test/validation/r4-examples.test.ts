/**
 * Agreement with the HL7 reference validator on base R4 content: the official R4 examples
 * (npm package hl7.fhir.r4.examples, published after validation) must validate, except the files
 * listed in fixtures/r4-examples-known-invalid.json, each of which has a known defect.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Validator } from '../../src/validation';

const dir = dirname(require.resolve('hl7.fhir.r4.examples/package.json'));
const known = (JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'r4-examples-known-invalid.json'), 'utf8')) as { files: Record<string, string> })
  .files;
const MAX_BYTES = 32 * 1024 * 1024;

test('the official R4 examples validate, apart from the known defective ones', () => {
  const validator = Validator.create();
  const files = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'package.json' && !f.startsWith('.'));
  expect(files.length).toBeGreaterThan(5000);
  const unexpected: string[] = [];
  for (const f of files) {
    const full = join(dir, f);
    let valid: boolean;
    let first = '';
    if (statSync(full).size > MAX_BYTES) {
      valid = false;
      first = 'File is';
    } else {
      const r = validator.validate(JSON.parse(readFileSync(full, 'utf8')));
      valid = r.valid;
      first = r.issues.find((i) => i.severity === 'error')?.details?.text ?? '';
    }
    if (f in known) {
      if (valid || !first.startsWith(known[f])) {
        unexpected.push(`${f}: expected an error starting '${known[f]}', got ${valid ? 'valid' : `'${first}'`}`);
      }
    } else if (!valid) {
      unexpected.push(`${f}: ${first}`);
    }
  }
  expect(unexpected).toEqual([]);
}, 180_000);
