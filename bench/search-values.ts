/**
 * Search-value extraction per resource, compiled expressions (src/store/search-native.ts) against
 * the FHIRPath engine, in one run: AuditEvents as the audit trail writes them (one per audited
 * request, issue 15) and the shipped examples. `npm run bench:search-values`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { classify, requestEvent, type Classified } from '../src/audit';
import { serverBase } from '../src/store/local-refs';
import { extractSearchValues } from '../src/store/search-values';
import { ensureSchema } from '../src/validation/schema-loader';
import { Validator } from '../src/validation';

Validator.create();
const base = serverBase('http://localhost:8080/fhir');
const source = { site: 'localhost:8080', uri: 'http://localhost:8080/fhir' };
const agent = { clientId: 'c1', clientName: 'HIE', address: '10.0.0.1', purposeOfUse: 'TREAT' };
const read = classify({ method: 'GET', path: '/fhir/Patient/p1', paramNames: [], status: 200 }, () => true) as Classified;
const audit = requestEvent(read, agent, source, 200, new Date(), new Date());

const dir = join(__dirname, '..', 'examples', 'valid');
const examples: Resource[] = [];
for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
  const r = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Resource;
  if (r.resourceType === 'Bundle') {
    for (const e of r.entry ?? []) if (e.resource) examples.push(e.resource);
  } else {
    examples.push(r);
  }
}
for (const t of new Set([...examples.map((r) => r.resourceType), 'AuditEvent'])) ensureSchema(t);

function perResource(resources: Resource[], engineOnly: boolean, rounds: number): number {
  for (const r of resources) extractSearchValues(r, base, { engineOnly }); // warm-up
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) for (const r of resources) extractSearchValues(r, base, { engineOnly });
  return Number(process.hrtime.bigint() - start) / 1000 / (rounds * resources.length);
}

const rows = [
  ['AuditEvent (a read)', [audit], 5000],
  [`examples/valid (${examples.length} resources)`, examples, 200],
] as const;
console.log('| resources | engine µs/resource | compiled µs/resource | speed-up |');
console.log('|---|---|---|---|');
for (const [name, resources, rounds] of rows) {
  const engine = perResource([...resources], true, rounds);
  const native = perResource([...resources], false, rounds);
  console.log(`| ${name} | ${engine.toFixed(1)} | ${native.toFixed(1)} | ${(engine / native).toFixed(1)}x |`);
}
