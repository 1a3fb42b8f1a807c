import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { openStore } = require('./dist/store/index.js');
const { Validator } = require('./dist/validation/index.js');
const { parseSearchRequest } = require('@medplum/core');
Validator.create();
const repo = await openStore({ DATA_DIR: process.argv[2] });
await repo.driver.query('VACUUM ANALYZE');
const weeks = ['2026-03-02', '2026-06-01', '2026-09-07', '2026-11-02', '2026-01-12', '2026-04-20'];
const d = (w, k) => new Date(Date.parse(w) + k * 86400000).toISOString().slice(0, 10);
const asIs = (w) => `SELECT r.id, r.content FROM fhir_resource r WHERE r.resource_type = 'Encounter' AND NOT r.deleted AND EXISTS (SELECT 1 FROM fhir_date x WHERE x.resource_type = r.resource_type AND x.id = r.id AND x.code = 'date' AND (x.high >= '${w}T00:00:00Z') AND (x.low < '${d(w,7)}T00:00:00Z')) ORDER BY r.id LIMIT 21`;
for (let round = 0; round < 3; round++) {
  let t = performance.now(); let n = 0; const ids = [];
  for (let i = 0; i < 10; i++) for (const w of weeks) { const r = await repo.search(parseSearchRequest(`Encounter?date=ge${w}&date=lt${d(w, 7)}`)); n++; if (i === 0) ids.push(r.resources.map((x) => x.id).join()); }
  const a = (performance.now() - t) / n;
  t = performance.now(); const ids2 = [];
  for (let i = 0; i < 10; i++) for (const w of weeks) { const r = await repo.driver.query(asIs(w)); if (i === 0) ids2.push(r.rows.slice(0, 20).map((x) => x.id).join()); }
  const b = (performance.now() - t) / n;
  console.log(`search (driven by dates) ${a.toFixed(2)} ms; old plan SQL alone ${b.toFixed(2)} ms; same ids: ${ids.every((x, i) => x === ids2[i])}`);
}
// paging: all pages of one week equal the old plan's full list
const all = (await repo.driver.query(asIs(weeks[1]).replace('LIMIT 21', ''))).rows.map((r) => r.id);
let page = await repo.search(parseSearchRequest(`Encounter?date=ge${weeks[1]}&date=lt${d(weeks[1], 7)}&_count=50`)); const got = [...page.resources.map((r) => r.id)];
while (page.next) { page = await repo.search(parseSearchRequest(`Encounter?date=ge${weeks[1]}&date=lt${d(weeks[1], 7)}&_count=50`), { cursor: page.next }); got.push(...page.resources.map((r) => r.id)); }
console.log('paged', got.length, 'of', all.length, 'same:', got.join() === all.join());
await repo.close();
