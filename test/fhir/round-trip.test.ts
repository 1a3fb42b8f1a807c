/**
 * Properties over generated canonical documents (issue 3, "Mappers"): a record survives
 * canonical -> FHIR -> canonical unchanged; every record is accepted and every resource made is
 * valid against its profile, as is the transaction Bundle; translation is deterministic, with
 * UUID ids that change with the source.
 */
import type { Bundle, Encounter, Resource } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { CanonicalDocument } from '../../src/domain/model';
import { loadRules } from '../../src/domain/rules';
import { putEntry } from '../../src/fhir/bundle';
import { loadPackageTerms } from '../../src/fhir/context';
import { fromFhir } from '../../src/fhir/from-fhir';
import type { PipelineDeps } from '../../src/pipeline/canonical';
import { documentEvents, translateCanonical, type TranslateReport } from '../../src/pipeline/translate-canonical';
import { Validator } from '../../src/validation';
import { canonicalDocument, NOW, SOURCES } from './canonical-arbitrary';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let deps: PipelineDeps;
beforeAll(() => {
  deps = { validator: Validator.create(), rules: loadRules(), terms: loadPackageTerms(), now: () => NOW };
});

/** Runs the pipeline over a document; the sink's resources become a transaction Bundle of PUTs. */
async function translate(doc: unknown): Promise<{ bundle: Bundle; resources: Resource[]; report: TranslateReport }> {
  const resources: Resource[] = [];
  const report = await translateCanonical(documentEvents(structuredClone(doc)), deps, (list) => {
    resources.push(...list);
  });
  return { bundle: { resourceType: 'Bundle', type: 'transaction', entry: resources.map(putEntry) }, resources, report };
}

const errorsOf = (report: TranslateReport) => report.outcome.issue.filter((i) => i.severity === 'error' || i.severity === 'fatal');

describe('canonical -> FHIR -> canonical over generated documents', () => {
  it('accepts every record, makes only valid resources, and the record comes back unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(canonicalDocument, async (doc) => {
        const input = CanonicalDocument.parse(doc);
        const { bundle, resources, report } = await translate(doc);

        // (b) every record accepted, every resource valid against its profile, the Bundle too.
        expect(errorsOf(report)).toEqual([]);
        expect(report.summary.rejected).toBe(0);
        expect(report.summary.resources).toBe(resources.length);
        for (const resource of resources) {
          const result = deps.validator.validate(resource);
          expect({
            resource: `${resource.resourceType}/${resource.id}`,
            errors: result.issues.filter((i) => i.severity === 'error' || i.severity === 'fatal'),
          }).toEqual({
            resource: `${resource.resourceType}/${resource.id}`,
            errors: [],
          });
        }
        // Derived values agree with the records: an Encounter's period spans its length exactly.
        for (const e of resources.filter((r): r is Encounter => r.resourceType === 'Encounter')) {
          if (e.period?.end && e.length) {
            expect({ id: e.id, minutes: (Date.parse(e.period.end) - Date.parse(e.period.start as string)) / 60_000 }).toEqual({
              id: e.id,
              minutes: e.length.value,
            });
          }
        }
        const whole = deps.validator.validate(bundle);
        expect(whole.issues.filter((i) => i.severity === 'error' || i.severity === 'fatal')).toEqual([]);
        expect(whole.valid).toBe(true);

        // (a) the round trip.
        expect(CanonicalDocument.parse(fromFhir(bundle))).toStrictEqual(input);
      }),
      { numRuns: 80 },
    );
  });

  it('is deterministic: the same document gives the same Bundle; ids are UUIDs that change with the source', async () => {
    await fc.assert(
      fc.asyncProperty(canonicalDocument, fc.constantFrom(...SOURCES), async (doc, otherSource) => {
        fc.pre(doc.source !== otherSource);
        const first = await translate(doc);
        const second = await translate(doc);
        expect(JSON.stringify(second.bundle)).toBe(JSON.stringify(first.bundle));

        const ids = first.resources.map((r) => r.id as string);
        for (const id of ids) expect(id).toMatch(UUID);
        expect(new Set(ids).size).toBe(ids.length);
        for (const entry of first.bundle.entry ?? []) {
          expect(entry.fullUrl).toBe(`urn:uuid:${entry.resource?.id}`);
          expect(entry.request).toEqual({ method: 'PUT', url: `${entry.resource?.resourceType}/${entry.resource?.id}` });
        }

        const moved = await translate({ ...doc, source: otherSource });
        expect(moved.resources.map((r) => r.resourceType)).toEqual(first.resources.map((r) => r.resourceType));
        const movedIds = new Set(moved.resources.map((r) => r.id as string));
        expect(ids.filter((id) => movedIds.has(id))).toEqual([]);
      }),
      { numRuns: 40 },
    );
  });

  it('changes the id of a record whose source id changes, and only of the resources made from it', async () => {
    await fc.assert(
      fc.asyncProperty(canonicalDocument, async (doc) => {
        const first = await translate(doc);
        const renamed = structuredClone(doc) as { supervisorAssessments: { id: string }[]; organizations: { id: string }[] };
        fc.pre(renamed.supervisorAssessments.length > 0);
        renamed.supervisorAssessments[0].id += '-renamed';
        const second = await translate(renamed);
        expect(errorsOf(first.report)).toEqual([]);
        expect(errorsOf(second.report)).toEqual([]);
        const before = first.resources.map((r) => r.id);
        const after = second.resources.map((r) => r.id);
        const changed = before.filter((id, i) => id !== after[i]);
        expect(changed).toHaveLength(1);
        expect(first.resources.find((r) => r.id === changed[0])?.resourceType).toBe('QuestionnaireResponse');
      }),
      { numRuns: 15 },
    );
  });
});
