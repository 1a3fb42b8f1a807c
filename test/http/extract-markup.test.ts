/**
 * `$extract` follows the Questionnaire's own SDC markup (src/pipeline/sdc-markup.ts): for the
 * shipped instruments it gives exactly the Observations the ingest makes; a made-up Questionnaire
 * with item codes and observationExtract extracts with no code of PeerBridge's knowing it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import type { Bundle, Observation, Parameters, Questionnaire, QuestionnaireResponse, Resource } from '@medplum/fhirtypes';
import { createApp } from '../../src/http/app';
import { loadPackageTerms } from '../../src/fhir/context';
import { markedItems } from '../../src/pipeline/sdc-markup';
import { Validator } from '../../src/validation';

const FHIR = 'application/fhir+json';
const EXAMPLES = join(__dirname, '..', '..', 'examples');
const example = (name: string) => JSON.parse(readFileSync(join(EXAMPLES, name), 'utf8'));
let app: ReturnType<typeof createApp>;
beforeAll(() => {
  app = createApp({ validator: Validator.create(), config: { MAX_BODY_BYTES: 1024 * 1024 } });
});
const post = (path: string, body: unknown) => request(app).post(path).set('Content-Type', FHIR).send(JSON.stringify(body));

test('the shipped Questionnaires carry the markup: item codes on the 23 statements and the total, observationExtract on the total and the determination', () => {
  const terms = loadPackageTerms();
  const irc = terms.questionnaire('http://peerbridge.org/fhir/Questionnaire/idaho-recovery-capital-scale');
  const statements = (irc.item ?? []).filter((i) => i.linkId.startsWith('irc-'));
  expect(statements).toHaveLength(23);
  for (const s of statements) expect(s.code?.[0]).toMatchObject({ system: 'http://peerbridge.org/fhir/CodeSystem/recovery-capital-item', code: s.linkId });
  expect(markedItems(irc).map((m) => [m.item.linkId, m.code[0].code])).toEqual([['total', 'recovery-capital-total']]);
  const eligibility = terms.questionnaire('http://peerbridge.org/fhir/Questionnaire/peer-support-eligibility-review');
  expect(markedItems(eligibility).map((m) => [m.item.linkId, m.code[0].code])).toEqual([['determination', 'eligibility-determination']]);
  const supervisor = terms.questionnaire('http://peerbridge.org/fhir/Questionnaire/supervisor-peer-workers-self-assessment');
  expect(markedItems(supervisor)).toEqual([]);
});

test('for the shipped example, $extract gives the very Observations the ingest made from the same responses', async () => {
  const ingested = await post('/ingest/canonical?dryRun=true', example('canonical/riverbend-dana-whitfield.json'));
  expect(ingested.status).toBe(200);
  const entries = ((ingested.body as Parameters).parameter?.find((p) => p.name === 'bundle')?.resource as Bundle).entry ?? [];
  // Out of the dry-run transaction, urn:uuid references name nothing: point them at the ids the transaction gives.
  const ids = new Map(entries.map((e) => [e.fullUrl, `${e.resource?.resourceType}/${e.resource?.id}`]));
  const resolved = <T extends Resource>(r: T): T =>
    JSON.parse(JSON.stringify(r), (k: string, v: unknown) => (k === 'reference' && typeof v === 'string' && ids.has(v) ? ids.get(v) : v)) as T;
  const resources = entries.map((e) => resolved(e.resource as Resource));
  const responses = resources.filter(
    (r): r is QuestionnaireResponse => r.resourceType === 'QuestionnaireResponse' && !(r.questionnaire ?? '').includes('supervisor'),
  );
  expect(responses.length).toBeGreaterThanOrEqual(2);
  let compared = 0;
  for (const qr of responses) {
    const made = resources.filter(
      (r): r is Observation => r.resourceType === 'Observation' && r.derivedFrom?.[0]?.reference === `QuestionnaireResponse/${qr.id}`,
    );
    const res = await post('/fhir/QuestionnaireResponse/$extract', qr);
    if (made.length === 0) {
      // An administration with unanswered items has no total, in the ingest as in $extract.
      expect(res.status).toBe(422);
      continue;
    }
    expect(res.status).toBe(200);
    expect((res.body as Bundle).entry?.map((e) => e.resource)).toEqual(made);
    compared += made.length;
  }
  expect(compared).toBeGreaterThanOrEqual(2);
});

/** A made-up two-item screener: codes and observationExtract on the Questionnaire, a calculated total. */
const SCREENER: Questionnaire = {
  resourceType: 'Questionnaire',
  id: 'mood-screener',
  url: 'http://example.org/fhir/Questionnaire/mood-screener',
  version: '2.0',
  status: 'active',
  extension: [{ url: 'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-observationExtract', valueBoolean: true }],
  item: [
    { linkId: 'intro', type: 'display', text: 'Over the last two weeks:' },
    {
      linkId: 'mood',
      type: 'group',
      text: 'Mood',
      item: [
        {
          linkId: 'interest',
          code: [{ system: 'http://loinc.org', code: '44250-9' }],
          text: 'Little interest or pleasure in doing things',
          type: 'integer',
        },
        { linkId: 'down', code: [{ system: 'http://loinc.org', code: '44255-8' }], text: 'Feeling down, depressed or hopeless', type: 'integer' },
        // No code: not extracted, whatever the flag.
        { linkId: 'comment', text: 'Anything else?', type: 'string' },
      ],
    },
    {
      linkId: 'score',
      code: [{ system: 'http://loinc.org', code: '55758-7' }],
      text: 'Total score',
      type: 'integer',
      readOnly: true,
      extension: [
        {
          url: 'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression',
          valueExpression: { language: 'text/fhirpath', expression: "%resource.repeat(item).where(linkId = 'interest' or linkId = 'down').answer.value.sum()" },
        },
      ],
    },
    {
      linkId: 'follow-up',
      code: [{ system: 'http://example.org/codes', code: 'follow-up' }],
      text: 'Follow-up wanted',
      type: 'boolean',
      // Turned off for this item and what is under it.
      extension: [{ url: 'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-observationExtract', valueBoolean: false }],
    },
  ],
};

const screenerResponse = (): QuestionnaireResponse => ({
  resourceType: 'QuestionnaireResponse',
  id: 'mood-screener-response-1',
  questionnaire: 'http://example.org/fhir/Questionnaire/mood-screener|2.0',
  status: 'completed',
  subject: { reference: 'Patient/p1' },
  authored: '2026-11-20T10:00:00Z',
  item: [
    {
      linkId: 'mood',
      item: [
        { linkId: 'interest', answer: [{ valueInteger: 2 }] },
        { linkId: 'down', answer: [{ valueInteger: 1 }] },
        { linkId: 'comment', answer: [{ valueString: 'sleeping badly' }] },
      ],
    },
    { linkId: 'follow-up', answer: [{ valueBoolean: true }] },
  ],
});

describe('a made-up Questionnaire with SDC markup', () => {
  test('given as the questionnaire parameter: one Observation per coded answer, and the calculated total', async () => {
    const res = await post('/fhir/QuestionnaireResponse/$extract', {
      resourceType: 'Parameters',
      parameter: [
        { name: 'questionnaire-response', resource: screenerResponse() },
        { name: 'questionnaire', resource: SCREENER },
      ],
    });
    expect([res.status, res.status === 200 ? '' : JSON.stringify(res.body)]).toEqual([200, '']);
    const observations = (res.body as Bundle).entry!.map((e) => e.resource as Observation);
    expect(observations.map((o) => [o.code.coding?.[0]?.code, o.valueInteger])).toEqual([
      ['44250-9', 2],
      ['44255-8', 1],
      ['55758-7', 3],
    ]);
    for (const o of observations) {
      expect(o).toMatchObject({
        status: 'final',
        subject: { reference: 'Patient/p1' },
        effectiveDateTime: '2026-11-20T10:00:00Z',
        derivedFrom: [{ reference: 'QuestionnaireResponse/mood-screener-response-1' }],
      });
      expect(o.meta?.profile).toBeUndefined();
    }
    // Deterministic ids: extracting again updates the same Observations.
    const again = await post('/fhir/QuestionnaireResponse/$extract', {
      resourceType: 'Parameters',
      parameter: [
        { name: 'questionnaire-response', resource: screenerResponse() },
        { name: 'questionnaire', resource: SCREENER },
      ],
    });
    expect((again.body as Bundle).entry!.map((e) => e.request?.url)).toEqual((res.body as Bundle).entry!.map((e) => e.request?.url));
  });

  test('contained in the response; a stated total that disagrees with the calculation is a 422', async () => {
    const qr = { ...screenerResponse(), questionnaire: '#mood-screener', contained: [SCREENER] };
    const res = await post('/fhir/QuestionnaireResponse/$extract', qr);
    expect(res.status).toBe(200);
    expect((res.body as Bundle).entry).toHaveLength(3);
    qr.item = [...qr.item!, { linkId: 'score', answer: [{ valueInteger: 7 }] }];
    const wrong = await post('/fhir/QuestionnaireResponse/$extract', qr);
    expect(wrong.status).toBe(422);
    expect(wrong.body.issue[0].details.text).toMatch(/item 'score' says 7, but its calculatedExpression gives 3/);
  });

  test('not known here, another version, no markup: 422 saying which', async () => {
    const unknown = await post('/fhir/QuestionnaireResponse/$extract', screenerResponse());
    expect(unknown.status).toBe(422);
    expect(unknown.body.issue[0].details.text).toMatch(/mood-screener\|2.0 is not known here: give it as the "questionnaire" parameter/);
    const older = await post('/fhir/QuestionnaireResponse/$extract', {
      resourceType: 'Parameters',
      parameter: [
        { name: 'questionnaire-response', resource: { ...screenerResponse(), questionnaire: 'http://example.org/fhir/Questionnaire/mood-screener|1.0' } },
        { name: 'questionnaire', resource: SCREENER },
      ],
    });
    expect(older.status).toBe(422);
    const bare: Questionnaire = { ...SCREENER, extension: undefined };
    const none = await post('/fhir/QuestionnaireResponse/$extract', {
      resourceType: 'Parameters',
      parameter: [
        { name: 'questionnaire-response', resource: screenerResponse() },
        { name: 'questionnaire', resource: bare },
      ],
    });
    expect(none.status).toBe(422);
    expect(none.body.issue[0].details.text).toMatch(/marks no item for observation-based extraction/);
  });
});

test('responses name their instrument by versioned canonical; the unversioned URL is still valid, another instrument is not', () => {
  const validator = Validator.create();
  const qr = example('valid/QuestionnaireResponse-dana-whitfield-irc-2026-09-15.json') as QuestionnaireResponse;
  expect(qr.questionnaire).toBe('http://peerbridge.org/fhir/Questionnaire/idaho-recovery-capital-scale|0.1.0');
  expect(validator.validate(qr).valid).toBe(true);
  expect(validator.validate({ ...qr, questionnaire: 'http://peerbridge.org/fhir/Questionnaire/idaho-recovery-capital-scale' }).valid).toBe(true);
  const other = validator.validate({ ...qr, questionnaire: 'http://peerbridge.org/fhir/Questionnaire/idaho-recovery-capital-scale-2' });
  expect(other.valid).toBe(false);
  expect(JSON.stringify(other.outcome)).toContain('pb-questionnaire-irc');
});
