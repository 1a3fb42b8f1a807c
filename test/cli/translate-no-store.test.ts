/**
 * `peerbridge translate` has no store (issue 13 item 1): a run knows only its own records, as
 * before the lookup port, and its report says so in one line.
 */
import { join } from 'node:path';
import { run } from './run-cli';

const MINI = join(__dirname, '..', 'fixtures', 'mapping-mini');
const EXAMPLE = join(__dirname, '..', '..', 'examples', 'canonical', 'riverbend-dana-whitfield.json');
const NOTE = /^Store: none \(records sent before are not looked up: a contact's episode must be in the run or named with its person and organization\)$/m;

test.each([
  ['an outside source', ['--mapping', MINI, join(MINI, 'contacts.csv'), '--out', '/dev/null', '--rejects', '/dev/null']],
  ['a canonical file', ['--mapping', 'canonical', EXAMPLE, '--out', '/dev/null']],
])('%s: the report says that records sent before are not looked up', async (_name, args) => {
  const r = await run('translate', ...args);
  expect(r.err).toMatch(NOTE);
});
