/**
 * How fast the engine applies a 10-field contact rule to pre-parsed CSV rows (no reading, no
 * canonical checks, no FHIR): run `node -r tsx/cjs test/translate/engine.bench.ts`. Not a jest test
 * (the name does not end in .test.ts): timings on a shared machine are not assertions.
 */
import { loadSource, mapRecord, mapRecords } from '../../src/translate';
import { csvRecords, sourceYaml, writeMapping } from './helpers';
const src = loadSource(
  writeMapping({
    'source.yaml': sourceYaml(),
    'tables.yaml': `tables:\n  contact-mode:\n    target: contact-mode\n    codes: { F2F: in-person, PH: telephone, TH: video }\n  status:\n    target: contact-status\n    codes: { C: finished, N: no-show }\n  yn:\n    target: boolean\n    codes: { Y: true, N: false }\n`,
    'contacts.yaml': `match: "*.csv"
records:
  - record: contact
    fields:
      id: ContactID
      episode.id: EpisodeID
      episode.personId: ClientID
      episode.organizationId: { const: riverbend }
      start: { from: [ServiceDate, StartTime], transform: [{ join: " " }, { datetime: { format: "MM/dd/yyyy h:mm a" } }] }
      durationMinutes: { from: Minutes, transform: [integer] }
      mode: { from: ContactType, table: contact-mode }
      status: { from: Status, table: status }
      group: { from: Group, table: yn }
      specialistId: Staff
      note: Note
`,
  }),
);
const feed = src.feeds[0];
const header = ['ContactID', 'EpisodeID', 'ClientID', 'ServiceDate', 'StartTime', 'Minutes', 'ContactType', 'Status', 'Group', 'Staff', 'Note'];
const N = 200_000;
const rows: string[][] = [];
for (let i = 0; i < N; i++) {
  const d = 1 + (i % 28),
    m = 1 + (i % 12);
  rows.push([
    `C-${i}`,
    `E-${i % 500}`,
    `${1000 + (i % 300)}`,
    `${String(m).padStart(2, '0')}/${String(d).padStart(2, '0')}/2026`,
    `${1 + (i % 12)}:${String(i % 60).padStart(2, '0')} ${i % 2 ? 'PM' : 'AM'}`,
    `${15 + (i % 90)}`,
    ['F2F', 'PH', 'TH'][i % 3],
    'C',
    i % 5 ? 'N' : 'Y',
    `S-${i % 40}`,
    i % 3 ? 'Met at the clinic' : '',
  ]);
}
const recs = csvRecords(header, rows);
for (let k = 0; k < 5; k++) {
  const t = process.hrtime.bigint();
  let errors = 0;
  for (const r of recs) {
    const m = mapRecord(src, feed, r);
    errors += m.results[0].issues.length;
  }
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  console.log(`mapRecord: ${N} rows in ${ms.toFixed(0)} ms = ${((N / ms) * 1000).toFixed(0)} rows/s, issues ${errors}`);
}
void (async () => {
  const t = process.hrtime.bigint();
  let n = 0;
  for await (const m of mapRecords(src, feed, recs)) n += m.results.length;
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  console.log(`mapRecords (async): ${n} in ${ms.toFixed(0)} ms = ${((n / ms) * 1000).toFixed(0)} rows/s`);
})();
