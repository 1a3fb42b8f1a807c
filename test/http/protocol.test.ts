/**
 * Small protocol gaps (issue 11, item 13): PATCH answers 405 with `Allow` (PeerBridge has no
 * PATCH), an empty searchset has no `entry` (an empty array is not valid FHIR JSON), and with auth
 * off the audit trail stays out of `$everything` and system `_history` as it does with auth on,
 * while `GET /fhir/AuditEvent` still finds it.
 */
import type { Bundle } from '@medplum/fhirtypes';
import request from 'supertest';
import { openAudit, type Audit } from '../../src/audit';
import { openAuth } from '../../src/auth';
import { createApp } from '../../src/http/app';
import { Validator } from '../../src/validation';
import { episodeBundle } from '../support/examples';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';

const FHIR = 'application/fhir+json';
let validator: Validator;
beforeAll(() => {
  validator = Validator.create();
});

describe.each(DRIVERS)('protocol gaps on %s', (driver) => {
  let store: TestStore;
  let audit: Audit;
  let apps: Array<[string, ReturnType<typeof createApp>]>;
  beforeAll(async () => {
    store = await openTestStore(driver);
    const isResourceType = (t: string): boolean => validator.defs.isResourceType(t);
    audit = openAudit({ repo: store.repo, isResourceType, writer: { flushMs: 10 } });
    const disabled = await openAuth({ driver: store.repo.driver, env: {}, config: { AUTH_DISABLED: true } });
    const config = { MAX_BODY_BYTES: 1024 * 1024 };
    apps = [
      ['no auth', createApp({ validator, store: store.repo, config, audit })],
      ['AUTH_DISABLED', createApp({ validator, store: store.repo, config, audit, auth: disabled })],
    ];
    const tx = await request(apps[0][1]).post('/fhir').set('Content-Type', FHIR).send(JSON.stringify(episodeBundle()));
    expect(tx.status).toBe(200);
  });
  afterAll(async () => {
    await audit?.close();
    await store?.close();
  });

  test('PATCH answers 405 with Allow naming the methods the URL takes, whatever its Content-Type', async () => {
    for (const type of ['application/json-patch+json', FHIR]) {
      const instance = await request(apps[0][1]).patch('/fhir/Patient/dana-whitfield').set('Content-Type', type).send('[]');
      expect(instance.status).toBe(405);
      expect(instance.body.resourceType).toBe('OperationOutcome');
      expect(instance.headers.allow?.split(', ').sort()).toEqual(['DELETE', 'GET', 'PUT']);
    }
    const typeLevel = await request(apps[0][1]).patch('/fhir/Patient').set('Content-Type', 'application/json-patch+json').send('[]');
    expect(typeLevel.status).toBe(405);
    expect(typeLevel.headers.allow?.split(', ').sort()).toEqual(['GET', 'POST']);
  });

  test('an empty searchset has no entry element', async () => {
    const res = await request(apps[0][1]).get('/fhir/Patient?family=NoSuchFamilyAnywhere');
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('searchset');
    expect(res.body).not.toHaveProperty('entry');
  });

  test.each([0, 1])('with auth off (app %#), AuditEvents stay out of $everything and system _history but are searchable', async (i) => {
    const [, app] = apps[i];
    // Reads of the patient are audited (the events are about the patient: its compartment).
    await request(app).get('/fhir/Patient/dana-whitfield');
    await request(app).get('/fhir/Patient/dana-whitfield/$everything');
    await audit.flush();
    const events = await request(app).get('/fhir/AuditEvent?_count=200');
    expect(events.status).toBe(200);
    expect((events.body as Bundle).entry?.length ?? 0).toBeGreaterThan(0);
    const typesOf = (b: Bundle): string[] => [...new Set((b.entry ?? []).map((e) => e.resource?.resourceType ?? e.request?.url?.split('/')[0] ?? ''))];
    const everything = await request(app).get('/fhir/Patient/dana-whitfield/$everything?_count=1000');
    expect(everything.status).toBe(200);
    expect(typesOf(everything.body)).not.toContain('AuditEvent');
    expect(everything.body.total).toBe((everything.body as Bundle).entry?.length);
    const history = await request(app).get('/fhir/_history?_count=1000');
    expect(history.status).toBe(200);
    expect(typesOf(history.body)).not.toContain('AuditEvent');
    expect(history.body.total).toBe((history.body as Bundle).entry?.length);
  });
});
