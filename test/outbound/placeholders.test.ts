/**
 * Bundles that leave hold or resolve every reference they make (src/outbound/placeholders.ts):
 * in every golden output of an outside source, each reference is to an entry of the Bundle (its
 * fullUrl, or the `Type/id` of a PUT) or is conditional; each golden posted as a transaction to
 * a fresh store (both drivers) is accepted, its placeholders made, and posted again creates
 * nothing new (the conditional creates find what the first post made).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import type { Bundle, EpisodeOfCare, Resource } from '@medplum/fhirtypes';
import { createApp } from '../../src/http/app';
import { closedEntries, pointAtPlaceholders, ReferenceTargets, SUBSETTED_TAG } from '../../src/outbound/placeholders';
import { Validator } from '../../src/validation';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';

const OUTSIDE = join(__dirname, '..', '..', 'examples', 'outside');
const GOLDENS = readdirSync(OUTSIDE).flatMap((source) => {
  const dir = join(OUTSIDE, source, 'expected');
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json') && !f.endsWith('.report.json'));
  } catch {
    // a source without goldens
  }
  return files.map((f) => ({ name: `${source}/${f}`, bundle: JSON.parse(readFileSync(join(dir, f), 'utf8')) as Bundle }));
});

function references(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => references(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string') out.push(v);
      else references(v, out);
    }
  }
  return out;
}

/** References of a Bundle that name neither an entry's fullUrl nor a PUT's `Type/id`, and are not conditional. */
function dangling(bundle: Bundle): string[] {
  const entries = bundle.entry ?? [];
  const fullUrls = new Set(entries.map((e) => e.fullUrl));
  const puts = new Set(entries.filter((e) => e.request?.method === 'PUT').map((e) => e.request?.url));
  return references(entries.map((e) => e.resource)).filter((r) => !fullUrls.has(r) && !puts.has(r) && !r.includes('?') && !r.startsWith('#'));
}

test('the goldens are the four outside-source outputs', () => {
  expect(GOLDENS.map((g) => g.name).sort()).toEqual(['hl7v2/feed.json', 'hl7v2/updates.json', 'riverbend-csv/export.json', 'vendor-json/payload.json']);
});

test.each(GOLDENS.map((g) => [g.name, g.bundle] as const))('%s: every reference resolves inside the Bundle', (_name, bundle) => {
  expect(dangling(bundle)).toEqual([]);
});

test('the HL7 v2 feed names the episodes, people, programs and peers it did not carry by placeholder (conditional create by identifier)', () => {
  const feed = GOLDENS.find((g) => g.name === 'hl7v2/feed.json')!.bundle;
  const posts = (feed.entry ?? []).filter((e) => e.request?.method === 'POST');
  expect(posts.length).toBeGreaterThan(0);
  for (const e of posts) {
    const r = e.resource as Resource & { identifier?: { system?: string; value?: string }[] };
    expect(e.fullUrl).toBe(`urn:uuid:${r.id}`);
    expect(r.meta?.tag).toEqual([SUBSETTED_TAG]);
    const id = r.identifier?.[0];
    expect(e.request?.ifNoneExist).toBe(`identifier=${encodeURIComponent(id!.system!)}|${encodeURIComponent(id!.value!)}`);
  }
  const episode = posts.find((e) => e.resource?.resourceType === 'EpisodeOfCare')!.resource as EpisodeOfCare;
  expect(episode.status).toBe('active');
  expect(episode.patient.reference).toMatch(/^(Patient\/|urn:uuid:)/);
  // Encounters point at the placeholder's fullUrl, which a server rewrites to what it matched or made.
  const encounterEpisodes = (feed.entry ?? []).flatMap((e) => (e.resource?.resourceType === 'Encounter' ? references(e.resource.episodeOfCare) : []));
  expect(encounterEpisodes.some((r) => r === `urn:uuid:${episode.id}`)).toBe(true);
});

describe('closedEntries', () => {
  const org = (id: string) => ({ reference: `Organization/${id}` });
  test('a target in the output: no placeholder; a target only referred to: one placeholder, references pointed at it; no identifier: outside', () => {
    const targets = new ReferenceTargets();
    targets.note('Organization', 'o1', { system: 'https://example.org/src/organization', value: 'ORG-1' });
    targets.note('Organization', 'o2', { system: 'https://example.org/src/organization', value: 'ORG-2' });
    targets.note('Organization', 'o3', { system: 'https://example.org/src/organization', value: 'A|B' });
    const resources: Resource[] = [
      { resourceType: 'Organization', id: 'o1', name: 'One' },
      { resourceType: 'Patient', id: 'p1', managingOrganization: org('o2') },
      { resourceType: 'Patient', id: 'p2', managingOrganization: org('o1') },
      { resourceType: 'Patient', id: 'p3', managingOrganization: org('o3') },
      { resourceType: 'Patient', id: 'p4', managingOrganization: org('o9') },
    ];
    const { entries, outside } = closedEntries(resources, targets);
    expect(outside.sort()).toEqual(['Organization/o3', 'Organization/o9']);
    expect(entries).toHaveLength(6);
    const placeholder = entries[5];
    expect(placeholder.request).toEqual({
      method: 'POST',
      url: 'Organization',
      ifNoneExist: 'identifier=https%3A%2F%2Fexample.org%2Fsrc%2Forganization|ORG-2',
    });
    expect(references(entries.map((e) => e.resource))).toEqual(['urn:uuid:o2', 'Organization/o1', 'Organization/o3', 'Organization/o9']);
    // The resources given are not changed.
    expect(resources[1]).toMatchObject({ managingOrganization: org('o2') });
  });

  test('an episode placeholder takes its person and program from the record that refers to it; Part 2 labels follow', () => {
    const targets = new ReferenceTargets();
    const sys = (k: string) => `https://example.org/src/${k}`;
    targets.note('EpisodeOfCare', 'e1', { system: sys('episode'), value: 'E1' });
    targets.note('Patient', 'p1', { system: sys('person'), value: 'P1' });
    targets.note('Organization', 'o1', { system: sys('organization'), value: 'O1' });
    const encounter: Resource = {
      resourceType: 'Encounter',
      id: 'c1',
      meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: '42CFRPart2' }] },
      status: 'finished',
      class: { code: 'AMB' },
      subject: { reference: 'Patient/p1' },
      episodeOfCare: [{ reference: 'EpisodeOfCare/e1' }],
      serviceProvider: org('o1'),
    };
    const { entries, outside } = closedEntries([encounter], targets);
    expect(outside).toEqual([]);
    const byType = Object.fromEntries(entries.map((e) => [e.resource!.resourceType, e.resource as Resource & Record<string, unknown>]));
    expect(byType.EpisodeOfCare).toMatchObject({ status: 'active', patient: { reference: 'urn:uuid:p1' }, managingOrganization: { reference: 'urn:uuid:o1' } });
    for (const type of ['EpisodeOfCare', 'Patient', 'Organization']) expect(byType[type].meta).toHaveProperty('security');
  });

  test('pointAtPlaceholders leaves other references alone', () => {
    const json = '{"a":{"reference":"Patient/x"},"b":{"reference":"Patient/y"},"c":{"reference":"urn:uuid:z"}}';
    expect(pointAtPlaceholders(json, new Map([['Patient/x', 1]]))).toBe(
      '{"a":{"reference":"urn:uuid:x"},"b":{"reference":"Patient/y"},"c":{"reference":"urn:uuid:z"}}',
    );
  });
});

describe.each(DRIVERS)('posted to a fresh store on %s', (driver) => {
  let store: TestStore;
  let app: ReturnType<typeof createApp>;
  beforeAll(async () => {
    store = await openTestStore(driver);
    app = createApp({ validator: Validator.create(), store: store.repo, config: { MAX_BODY_BYTES: 16 * 1024 * 1024 } });
  });
  afterAll(async () => {
    await store?.close();
  });

  test.each(GOLDENS.map((g) => [g.name, g.bundle] as const))(
    '%s: accepted; posted again, its placeholders find what the first post made',
    async (_name, bundle) => {
      const first = await request(app).post('/fhir').set('content-type', 'application/fhir+json').send(bundle);
      expect([first.status, first.status === 200 ? '' : JSON.stringify(first.body).slice(0, 2000)]).toEqual([200, '']);
      const posts = (bundle.entry ?? []).map((e, i) => [e, i] as const).filter(([e]) => e.request?.method === 'POST');
      for (const [e, i] of posts) {
        const status = (first.body as Bundle).entry?.[i]?.response?.status ?? '';
        // 201 when this post made it, 200 when an earlier golden's placeholder or record has the identifier.
        expect(status).toMatch(/^20[01]/);
        const id = (e.resource as { identifier: { system: string; value: string }[] }).identifier[0];
        const found = await request(app)
          .get(`/fhir/${e.request!.url}`)
          .query({ identifier: `${id.system}|${id.value}` });
        expect([e.request!.url, id.value, (found.body as Bundle).total ?? (found.body as Bundle).entry?.length]).toEqual([e.request!.url, id.value, 1]);
      }
      const again = await request(app).post('/fhir').set('content-type', 'application/fhir+json').send(bundle);
      expect(again.status).toBe(200);
      for (const [, i] of posts) expect((again.body as Bundle).entry?.[i]?.response?.status).toMatch(/^200/);
    },
    120_000,
  );

  test('an Encounter of the HL7 v2 feed refers to a stored EpisodeOfCare with the person it names', async () => {
    const feed = GOLDENS.find((g) => g.name === 'hl7v2/feed.json')!.bundle;
    const encounter = (feed.entry ?? []).find(
      (e) => e.resource?.resourceType === 'Encounter' && references(e.resource.episodeOfCare)[0]?.startsWith('urn:uuid:'),
    )!;
    const stored = await request(app).get(`/fhir/Encounter/${encounter.resource!.id}`);
    const episodeRef = (stored.body as { episodeOfCare: { reference: string }[] }).episodeOfCare[0].reference;
    expect(episodeRef).toMatch(/^EpisodeOfCare\//);
    const episode = await request(app).get(`/fhir/${episodeRef}`);
    expect(episode.status).toBe(200);
    expect((episode.body as EpisodeOfCare).patient.reference).toBe((stored.body as { subject: { reference: string } }).subject.reference);
  }, 60_000);
});
