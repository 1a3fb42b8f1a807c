/**
 * Writes mappings/canonical/schema.json, the JSON Schema (draft 2020-12) of the canonical model,
 * generated from the zod schemas in src/domain/model.ts. `--check` fails when the committed file
 * is stale (CI runs it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { CanonicalDocument } from '../src/domain/model';

const file = join(__dirname, '..', 'mappings', 'canonical', 'schema.json');
const schema = {
  ...z.toJSONSchema(CanonicalDocument, { io: 'input', unrepresentable: 'any' }),
  $id: 'http://peerbridge.org/schema/canonical.json',
  title: 'PeerBridge canonical peer support records',
  description:
    'Records from one source system (a CCBHC EHR): organizations, practitioners, people, episodes (with eligibility reviews, contacts and a recovery plan), recovery capital administrations and supervisor self-assessments. Generated from src/domain/model.ts; see mappings/canonical/README.md. Rules that span fields (end after start, a finished contact needs a length, future dates, duplicate ids) are checked by PeerBridge, not by this schema.',
};
const text = `${JSON.stringify(schema, null, 2)}\n`;
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    // missing: stale
  }
  if (current !== text) {
    process.stderr.write(`${file} is stale: run npm run build:schema and commit it\n`);
    process.exit(1);
  }
  process.stdout.write('build-schema: mappings/canonical/schema.json is up to date\n');
} else {
  writeFileSync(file, text);
  process.stdout.write(`build-schema: wrote ${file}\n`);
}
