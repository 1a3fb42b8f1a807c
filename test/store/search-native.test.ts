/**
 * Search values from the compiled expressions (src/store/search-native.ts) equal the FHIRPath
 * engine's, parameter by parameter, over resources nobody wrote for this test: every example and
 * golden output of the repository, the US Core 6.1.0 examples, the HL7 terminology package's
 * conformance resources, and AuditEvents as the audit trail writes them.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { Validator } from '../../src/validation';
import { extractSearchValues } from '../../src/store/search-values';
import { paramsOf } from '../../src/store/search-params';
import { serverBase } from '../../src/store/local-refs';
import { ensureSchema } from '../../src/validation/schema-loader';
import { nativeValuesOf } from '../../src/store/search-native';
import { classify, requestEvent, tokenEvent } from '../../src/audit';

const ROOT = join(__dirname, '..', '..');
const US_CORE_TGZ = join(ROOT, 'test', 'fixtures', 'packages', 'hl7.fhir.us.core-6.1.0.tgz');

function jsonFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) jsonFiles(p, out);
    else if (name.endsWith('.json') || name.endsWith('.ndjson')) out.push(p);
  }
  return out;
}

/** Every resource in a file: the resource, a Bundle's entries (recursively), contained resources; NDJSON lines. */
function resourcesOf(value: unknown, out: Resource[]): void {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return;
  const r = value as Resource & { entry?: { resource?: unknown }[]; contained?: unknown[] };
  if (typeof r.resourceType !== 'string') return;
  out.push(r);
  for (const e of r.entry ?? []) resourcesOf(e.resource, out);
  for (const c of r.contained ?? []) resourcesOf(c, out);
}

function load(files: string[]): Resource[] {
  const out: Resource[] = [];
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const docs = f.endsWith('.ndjson') ? text.split('\n').filter((l) => l.trim()) : [text];
    for (const d of docs) {
      try {
        resourcesOf(JSON.parse(d), out);
      } catch {
        // not JSON (a deliberately broken example): nothing to index
      }
    }
  }
  return out;
}

function auditEvents(): Resource[] {
  const source = { site: 'pb.example.org', uri: 'https://pb.example.org/fhir' };
  const agent = { clientId: 'c1', clientName: 'HIE', address: '10.0.0.1', purposeOfUse: 'TREAT' };
  const requests: [string, string, string[], unknown?][] = [
    ['GET', '/fhir/Patient/p1', []],
    ['GET', '/fhir/Observation', ['patient', 'date']],
    ['GET', '/fhir/Patient/p1/$everything', []],
    ['POST', '/fhir', [], { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'PUT', url: 'Patient/p2' } }] }],
    ['DELETE', '/fhir/Encounter/e1', []],
    ['GET', '/fhir/$export', ['_type']],
  ];
  const out: Resource[] = [];
  for (const [method, path, paramNames, body] of requests) {
    const c = classify({ method, path, paramNames, body, status: 200 }, () => true);
    if (c) out.push(requestEvent(c, agent, source, 200, new Date(), new Date()));
  }
  out.push(tokenEvent({ issued: true, clientId: 'c1', clientName: 'HIE', scope: 'system/*.rs', tokenId: 'j1' }, source, new Date()));
  out.push(tokenEvent({ issued: false, clientId: 'c2', error: 'invalid_client' }, source, new Date()));
  return out;
}

let corpus: Resource[];

beforeAll(() => {
  const validator = Validator.create({ igPackages: [US_CORE_TGZ] });
  const usCore = jsonFiles(join(validator.defs.igPackages[0].dir, 'example'));
  const terminology = jsonFiles(join(ROOT, 'node_modules', 'hl7.terminology.r4'))
    .filter((f) => !/package\.json$|\.index\.json$/.test(f))
    .sort();
  corpus = [
    ...load(jsonFiles(join(ROOT, 'examples'))),
    ...load(jsonFiles(join(ROOT, 'test', 'fixtures')).filter((f) => !f.includes('packages'))),
    ...load(usCore),
    ...load(terminology.slice(0, 400)),
    ...auditEvents(),
  ];
});

const base = serverBase('https://pb.example.org/fhir');

test('the corpus is broad: many resource types, thousands of values', () => {
  const types = new Set(corpus.map((r) => r.resourceType));
  expect(corpus.length).toBeGreaterThan(500);
  expect(types.size).toBeGreaterThan(30);
  expect(types.has('AuditEvent')).toBe(true);
});

test('compiled and engine search values are the same, resource by resource', () => {
  // The engine too with each type's schema (as on the server, where writes are validated first):
  // without one it guesses choice types by name (Coverage.subscriber would read `subscriberId`).
  for (const t of new Set(corpus.map((r) => r.resourceType))) ensureSchema(t);
  let compared = 0;
  const differ: string[] = [];
  for (const r of corpus) {
    const engine = extractSearchValues(r, base, { engineOnly: true });
    const native = extractSearchValues(r, base);
    compared++;
    if (JSON.stringify(native) !== JSON.stringify(engine)) differ.push(`${r.resourceType}/${r.id}`);
  }
  expect(differ).toEqual([]);
  expect(compared).toBe(corpus.length);
});

test('the parameters the store writes most are compiled, not left to the engine', () => {
  for (const type of ['AuditEvent', 'Observation', 'Encounter', 'Patient', 'EpisodeOfCare', 'QuestionnaireResponse', 'CarePlan', 'Goal', 'ChargeItem']) {
    const left = [...paramsOf(type).values()].filter((d) => !nativeValuesOf(d, type)).map((d) => d.code);
    // Only expressions outside the compiled subset (functions such as exists(), ofType on a choice of Resource) may remain.
    expect({ type, left: left.filter((c) => !['deceased'].includes(c)) }).toEqual({ type, left: [] });
  }
});

test('a value the engine evaluates differently (a primitive extension) falls back to the engine', () => {
  const p = { resourceType: 'Patient', id: 'x', birthDate: '1990-01-02', _birthDate: { extension: [{ url: 'urn:x', valueString: 'y' }] } } as Resource;
  expect(extractSearchValues(p, base)).toEqual(extractSearchValues(p, base, { engineOnly: true }));
});
