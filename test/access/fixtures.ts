/**
 * Two tenants for the access tests: Riverbend (org A, the canonical pipeline's output for Dana
 * Whitfield, committed by the server itself) and Lakeside (org B, a 42 CFR Part 2 program whose
 * records its own client writes over REST, so they are labelled on write), plus shared
 * definitions and a few cross-tenant resources written by the server.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, Consent, Resource } from '@medplum/fhirtypes';
import { fhirRouter, type FhirDeps, type FhirRequest, type FhirResponse } from '../../src/fhir-api';
import type { Route } from '../../src/fhir-api/types';
import { FhirError } from '../../src/outcomes';
import type { RepositoryAccess, SqlRepository } from '../../src/store';
import type { Validator } from '../../src/validation';
import { cs, SYSTEMS } from '../../src/fhir/codes';
import { TENANT_TAG_SYSTEM } from '../../src/access';

export const BASE = 'http://test.local/fhir';

/** The canonical example's ids (deterministic, from examples/canonical/riverbend-dana-whitfield.expected.json). */
export const A = {
  org: 'ee813c3f-6d97-587a-a73f-3e49dd4b2ac5',
  patient: '8c0f7458-c8b8-57bd-b556-3e207e52847a',
  episode: '5c057125-3943-5c13-9ab8-f4d2f1354b5e',
  practitioner: '09239428-e8af-5161-b517-a740b0657af4',
  supervisorRole: 'd8413c5c-1902-590e-b148-8449cb1f6302',
  supervisorQr: '4ac88c4b-1b7a-51da-9229-7fd67491dedd',
  encounter: '62af450b-2dc3-55cf-b0cb-2e29305dd5b9',
};
export const B = {
  org: 'lakeside-sud',
  patient: 'lakeside-pat-1',
  encounter: 'lakeside-enc-1',
  observation: 'lakeside-obs-1',
  practitioner: 'lakeside-pss-1',
  role: 'lakeside-pss-1-role',
};

export const accessA: RepositoryAccess = { clientId: 'client-a', organizations: [A.org], allOrganizations: false };
export const accessB: RepositoryAccess = { clientId: 'client-b', organizations: [B.org], allOrganizations: false, assignIds: true };
export const accessAB: RepositoryAccess = { clientId: 'client-ab', organizations: [A.org, B.org], allOrganizations: false };

export function canonicalBundle(): Bundle {
  return JSON.parse(readFileSync(join(__dirname, '../../examples/canonical/riverbend-dana-whitfield.expected.json'), 'utf8')) as Bundle;
}

/** Org B's records as a transaction Bundle in the pipeline's order (Organization first, Patient before its records). */
export function lakesideBundle(): Bundle {
  const put = (resource: Resource): Bundle['entry'] extends (infer E)[] | undefined ? E : never => ({
    fullUrl: `${BASE}/${resource.resourceType}/${resource.id}`,
    resource,
    request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` },
  });
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      put({
        resourceType: 'Organization',
        id: B.org,
        active: true,
        name: 'Lakeside Recovery Center',
        type: [{ coding: [{ system: cs('peerbridge-codes'), code: 'part2-program' }] }],
      }),
      put({ resourceType: 'Practitioner', id: B.practitioner, name: [{ family: 'Reyes', given: ['Sam'] }] }),
      put({
        resourceType: 'PractitionerRole',
        id: B.role,
        practitioner: { reference: `Practitioner/${B.practitioner}` },
        organization: { reference: `Organization/${B.org}` },
      }),
      put({
        resourceType: 'Patient',
        id: B.patient,
        name: [{ family: 'Okafor', given: ['Lee'] }],
        managingOrganization: { reference: `Organization/${B.org}` },
      }),
      put({
        resourceType: 'Encounter',
        id: B.encounter,
        status: 'finished',
        class: { system: SYSTEMS.actCode, code: 'AMB' },
        subject: { reference: `Patient/${B.patient}` },
      }),
      put({
        resourceType: 'Observation',
        id: B.observation,
        status: 'final',
        code: { text: 'Recovery capital total' },
        subject: { reference: `Patient/${B.patient}` },
        encounter: { reference: `Encounter/${B.encounter}` },
        valueInteger: 80,
      }),
    ],
  };
}

/** A Consent of B's patient releasing Part 2 records to `org` (DS4P shape; see src/access/consent.ts). */
export function consent(id: string, org: string, over: Partial<Consent> = {}, provision: Partial<NonNullable<Consent['provision']>> = {}): Consent {
  // Through JSON: `undefined` in `over`/`provision` removes an element.
  return JSON.parse(
    JSON.stringify({
      resourceType: 'Consent',
      id,
      status: 'active',
      scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
      patient: { reference: `Patient/${B.patient}` },
      policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
      provision: {
        type: 'permit',
        period: { start: '2020-01-01', end: '2099-12-31' },
        actor: [{ role: { coding: [{ system: SYSTEMS.participationType, code: 'IRCP' }] }, reference: { reference: `Organization/${org}` } }],
        securityLabel: [{ system: SYSTEMS.actCode, code: '42CFRPart2' }],
        ...provision,
      },
      ...over,
    }),
  ) as Consent;
}

/** Resources the server writes itself: shared definitions and cross-tenant links. */
export function serverResources(): Resource[] {
  return [
    { resourceType: 'Questionnaire', id: 'shared-q', status: 'active', url: 'http://example.org/Questionnaire/shared-q', name: 'SharedQ' },
    // Owned by A (tag) but about B's patient: A's client must never reach B's Patient through it.
    {
      resourceType: 'Observation',
      id: 'a-obs-about-b',
      status: 'final',
      code: { text: 'note' },
      meta: { tag: [{ system: TENANT_TAG_SYSTEM, code: A.org }] },
      subject: { reference: `Patient/${B.patient}` },
    },
    {
      resourceType: 'Group',
      id: 'mixed-cohort',
      type: 'person',
      actual: true,
      managingEntity: { reference: `Organization/${A.org}` },
      member: [{ entity: { reference: `Patient/${A.patient}` } }, { entity: { reference: `Patient/${B.patient}` } }],
    },
  ];
}

/** A router call as the HTTP layer makes it: FhirErrors become their status and outcome. */
export function caller(validator: Validator, repo: SqlRepository, routes: Route[] = []) {
  const router = fhirRouter(routes);
  return async (
    access: RepositoryAccess | undefined,
    method: FhirRequest['method'],
    url: string,
    body?: unknown,
    headers: FhirRequest['headers'] = {},
  ): Promise<FhirResponse> => {
    const [path, qs] = url.split('?');
    const query: FhirRequest['query'] = {};
    for (const [k, v] of new URLSearchParams(qs ?? '')) {
      const prev = query[k];
      query[k] = prev === undefined ? v : [...[prev].flat(), v];
    }
    const deps: FhirDeps = access ? { repo: repo.withAccess(access), validator, access } : { repo, validator };
    try {
      return await router.handle({ method, path, query, headers, body, baseUrl: BASE }, deps);
    } catch (e) {
      if (e instanceof FhirError) {
        return { status: e.status, body: e.outcome };
      }
      throw e;
    }
  };
}

/** Ids (Type/id) of a Bundle's entries of one search mode. */
export function idsOf(bundle: Resource | undefined, mode: 'match' | 'include' | 'outcome' = 'match'): string[] {
  return ((bundle as Bundle | undefined)?.entry ?? [])
    .filter((e) => (e.search?.mode ?? 'match') === mode)
    .map((e) => `${e.resource?.resourceType}/${e.resource?.id}`);
}

/** The OperationOutcome entry of a searchset, if any. */
export function outcomeOf(bundle: Resource | undefined): Resource | undefined {
  return ((bundle as Bundle | undefined)?.entry ?? []).find((e) => e.search?.mode === 'outcome')?.resource;
}
