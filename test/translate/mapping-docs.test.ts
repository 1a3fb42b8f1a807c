/**
 * mappings/README.md's "Every target" is generated from the zod model (scripts/build-mapping-docs.ts,
 * `--check` in .ci/run); this test fails too when it is stale, and checks the hand-written notes
 * on rules across fields against the model.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Contact, Episode, Person, Practitioner } from '../../src/domain/model';
import { generated } from '../../scripts/build-mapping-docs';
import { KIND_SCHEMAS } from '../../src/translate/targets';

const README = readFileSync(join(__dirname, '..', '..', 'mappings', 'README.md'), 'utf8');

test('the README holds the generated reference, up to date (npm run build:mapping-docs)', () => {
  expect(README).toContain(generated());
});

test('every record kind, its required fields and its codes are listed', () => {
  const text = generated();
  for (const kind of Object.keys(KIND_SCHEMAS)) expect(text).toContain(`### \`${kind}\``);
  expect(text).toMatch(/\| `mode` \| code \| \*\*yes\*\* \| `in-person`, `telephone`, `video` \|/);
  expect(text).toMatch(/\| `status` \| code \| no \(default `"finished"`\) \|/);
  expect(text).toMatch(/\| `credential\.code` \| code \| no \| `certified-peer-specialist`/);
  expect(text).toMatch(/\| `uri` \| an absolute URI/);
});

describe('the notes on rules across fields hold', () => {
  const practitioner = { id: 'S1', role: 'peer-specialist', organizationId: 'o', name: { family: 'Lopez' } };
  test('a peer specialist needs credential.code; a supervisor does not; a name needs family or given', () => {
    expect(Practitioner.safeParse(practitioner).success).toBe(false);
    expect(Practitioner.safeParse({ ...practitioner, credential: { code: 'paraprofessional-peer' } }).success).toBe(true);
    expect(Practitioner.safeParse({ ...practitioner, role: 'supervisor' }).success).toBe(true);
    expect(Person.safeParse({ id: 'P', name: {} }).success).toBe(false);
  });
  test('a finished episode needs end; a finished contact needs end or durationMinutes', () => {
    expect(Episode.safeParse({ id: 'E', personId: 'P', organizationId: 'o', status: 'finished', start: '2026-09-01' }).success).toBe(false);
    const contact = { id: 'C', start: '2026-09-15T10:00:00-05:00', mode: 'telephone', specialistId: 'S1' };
    expect(Contact.safeParse(contact).success).toBe(false);
    expect(Contact.safeParse({ ...contact, durationMinutes: 30 }).success).toBe(true);
    expect(Contact.safeParse({ ...contact, status: 'no-show' }).success).toBe(true);
  });
});
