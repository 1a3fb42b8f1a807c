/**
 * The lookup port of src/domain/stored-records.ts, implemented on a repository: records sent in
 * earlier runs, found by their deterministic ids (src/fhir/ids.ts), through the view of the store
 * the repository is (`Repository.withAccess`): what the caller may not read answers as missing,
 * since the view's `read` answers it 404 exactly as an unknown id.
 */
import type { ChargeItem, EpisodeOfCare, Meta, Organization, Patient, Resource } from '@medplum/fhirtypes';
import { parseSearchRequest } from '@medplum/core';
import { localDate } from '../domain/datetime';
import type { StoredEpisode, StoredRecord, StoredRecords, StoredUnits } from '../domain/stored-records';
import { cs, PART2_LABELS } from '../fhir/codes';
import { recordIdOf } from '../fhir/context';
import { resourceId } from '../fhir/ids';
import { referencedId } from '../fhir/from-fhir';
import { FhirError } from '../outcomes';
import type { Repository } from './repository';

const RESOURCE_TYPE = { person: 'Patient', organization: 'Organization', practitioner: 'Practitioner' } as const;
const PART2_CODE = PART2_LABELS.find((l) => l.code === '42CFRPart2') as { system: string; code: string };

const labelledPart2 = (meta: Meta | undefined): boolean => (meta?.security ?? []).some((s) => s.system === PART2_CODE.system && s.code === PART2_CODE.code);

const isPart2Program = (o: Organization): boolean =>
  (o.type ?? []).some((t) => t.coding?.some((c) => c.system === cs('peerbridge-codes') && c.code === 'part2-program'));

/** A resource by id, or undefined when it is unknown, deleted or not readable by the view (404 and 410). */
async function readOrMissing<T extends Resource>(repo: Repository, type: T['resourceType'], id: string): Promise<T | undefined> {
  try {
    return await repo.read<T>(type, id);
  } catch (err) {
    if (err instanceof FhirError && (err.status === 404 || err.status === 410)) return undefined;
    throw err;
  }
}

/**
 * The source record id of a referenced resource of `type`: its source-record identifier when the
 * view reads it, else the claim whose deterministic id is the one referred to.
 */
async function sourceIdOf(
  repo: Repository,
  source: string,
  type: 'Patient' | 'Organization',
  ref: { reference?: string } | undefined,
  kind: string,
  claims: readonly (string | undefined)[],
): Promise<string | undefined> {
  const id = referencedId(ref);
  if (id === undefined) return undefined;
  const r = await readOrMissing<Patient | Organization>(repo, type, id);
  const stored = r ? recordIdOf(r.identifier, kind)?.value : undefined;
  return stored ?? claims.find((c) => c !== undefined && resourceId(source, type, c) === id);
}

/** Ids asked in one search (`_id=a,b,...`): a batch of records stays well under it, and a longer list is split. */
const IDS_PER_QUERY = 500;

const chunks = <T>(all: readonly T[], n: number): T[][] => Array.from({ length: Math.ceil(all.length / n) }, (_, i) => all.slice(i * n, i * n + n));

/** Resources of `type` among `ids` (FHIR ids), by id, through the view: one search per IDS_PER_QUERY ids. */
async function readMany<T extends Resource>(repo: Repository, type: T['resourceType'], ids: readonly string[]): Promise<Map<string, T>> {
  const out = new Map<string, T>();
  for (const part of chunks([...new Set(ids)], IDS_PER_QUERY)) {
    const page = await repo.search(parseSearchRequest(type, { _id: part.join(','), _count: String(part.length) }));
    for (const r of page.resources as T[]) out.set(r.id as string, r);
  }
  return out;
}

/** The source id a stored resource of `type` names by its source-record identifier, else the claim that hashes to `fhirId`. */
function sourceIdAmong(
  source: string,
  type: 'Patient' | 'Organization',
  kind: string,
  fhirId: string | undefined,
  read: Map<string, Patient | Organization>,
  claims: readonly (string | undefined)[],
): string | undefined {
  if (fhirId === undefined) return undefined;
  const r = read.get(fhirId);
  const stored = r ? recordIdOf(r.identifier, kind)?.value : undefined;
  return stored ?? claims.find((c) => c !== undefined && resourceId(source, type, c) === fhirId);
}

/** The lookup port over `repo` (the caller's view of the store). */
export function storedRecords(repo: Repository): StoredRecords {
  return {
    async find(source, kind, id): Promise<StoredRecord | undefined> {
      const type = RESOURCE_TYPE[kind];
      const r = await readOrMissing<Patient | Organization | Resource>(repo, type, resourceId(source, type, id));
      if (!r) return undefined;
      return { part2: r.resourceType === 'Organization' ? isPart2Program(r) : labelledPart2(r.meta) };
    },

    async episode(source, id, claims = {}): Promise<StoredEpisode | undefined> {
      const e = await readOrMissing<EpisodeOfCare>(repo, 'EpisodeOfCare', resourceId(source, 'EpisodeOfCare', id));
      if (!e) return undefined;
      // The canonical link names person and organization by source ids: their resources' identifiers, or a claim that hashes to the reference.
      const [personId, organizationId] = await Promise.all([
        sourceIdOf(repo, source, 'Patient', e.patient, 'person', [claims.personId]),
        sourceIdOf(repo, source, 'Organization', e.managingOrganization, 'organization', claims.organizationIds ?? []),
      ]);
      return {
        id,
        ...(personId !== undefined ? { personId } : {}),
        ...(organizationId !== undefined ? { organizationId } : {}),
        ...(e.referralRequest?.length ? { referral: true } : {}),
        part2: labelledPart2(e.meta),
      };
    },

    async findMany(source, kind, ids): Promise<Map<string, StoredRecord>> {
      const type = RESOURCE_TYPE[kind];
      const bySourceId = new Map(ids.map((id) => [resourceId(source, type, id), id]));
      const out = new Map<string, StoredRecord>();
      for (const [fhirId, r] of await readMany<Patient | Organization | Resource>(repo, type, [...bySourceId.keys()])) {
        const id = bySourceId.get(fhirId);
        if (id !== undefined) out.set(id, { part2: r.resourceType === 'Organization' ? isPart2Program(r) : labelledPart2(r.meta) });
      }
      return out;
    },

    async episodes(source, asks): Promise<Map<string, StoredEpisode>> {
      const byFhirId = new Map(asks.map((a) => [resourceId(source, 'EpisodeOfCare', a.id), a]));
      const found = await readMany<EpisodeOfCare>(repo, 'EpisodeOfCare', [...byFhirId.keys()]);
      // Their people and organizations, two searches for the batch.
      const eps = [...found.values()];
      const [people, orgs] = await Promise.all([
        readMany<Patient>(
          repo,
          'Patient',
          eps.map((e) => referencedId(e.patient)).filter((x): x is string => x !== undefined),
        ),
        readMany<Organization>(
          repo,
          'Organization',
          eps.map((e) => referencedId(e.managingOrganization)).filter((x): x is string => x !== undefined),
        ),
      ]);
      const out = new Map<string, StoredEpisode>();
      for (const [fhirId, e] of found) {
        const ask = byFhirId.get(fhirId);
        if (!ask) continue;
        const claims = ask.claims ?? {};
        const personId = sourceIdAmong(source, 'Patient', 'person', referencedId(e.patient), people, [claims.personId]);
        const organizationId = sourceIdAmong(source, 'Organization', 'organization', referencedId(e.managingOrganization), orgs, claims.organizationIds ?? []);
        out.set(ask.id, {
          id: ask.id,
          ...(personId !== undefined ? { personId } : {}),
          ...(organizationId !== undefined ? { organizationId } : {}),
          ...(e.referralRequest?.length ? { referral: true } : {}),
          part2: labelledPart2(e.meta),
        });
      }
      return out;
    },

    async openEpisodes(source, personIds): Promise<Map<string, StoredEpisode>> {
      const byRef = new Map(personIds.map((p) => [`Patient/${resourceId(source, 'Patient', p)}`, p]));
      const latest = new Map<string, EpisodeOfCare>();
      for (const part of chunks([...byRef.keys()], IDS_PER_QUERY)) {
        let cursor: string | undefined;
        do {
          const page = await repo.search(
            parseSearchRequest('EpisodeOfCare', { patient: part.join(','), status: 'active', _count: '1000' }),
            cursor ? { cursor } : {},
          );
          for (const e of page.resources as EpisodeOfCare[]) {
            const p = e.patient?.reference !== undefined ? byRef.get(e.patient.reference) : undefined;
            // Only this source's episodes (its own source-record identifier): its id is what a contact names.
            if (p === undefined || recordIdOf(e.identifier, 'episode') === undefined) continue;
            const had = latest.get(p);
            if (!had || (e.period?.start ?? '') > (had.period?.start ?? '')) latest.set(p, e);
          }
          cursor = page.next;
        } while (cursor !== undefined);
      }
      const out = new Map<string, StoredEpisode>();
      if (latest.size === 0) return out;
      const orgs = await readMany<Organization>(
        repo,
        'Organization',
        [...latest.values()].map((e) => referencedId(e.managingOrganization)).filter((x): x is string => x !== undefined),
      );
      for (const [personId, e] of latest) {
        const organizationId = sourceIdAmong(source, 'Organization', 'organization', referencedId(e.managingOrganization), orgs, []);
        out.set(personId, {
          id: recordIdOf(e.identifier, 'episode')?.value as string,
          personId,
          ...(organizationId !== undefined ? { organizationId } : {}),
          ...(e.referralRequest?.length ? { referral: true } : {}),
          part2: labelledPart2(e.meta),
        });
      }
      return out;
    },

    async billedAmong(source, personIds): Promise<Set<string>> {
      const byRef = new Map(personIds.map((p) => [`Patient/${resourceId(source, 'Patient', p)}`, p]));
      const out = new Set<string>();
      for (const part of chunks([...byRef.keys()], IDS_PER_QUERY)) {
        // Pages of ChargeItems of these people until each has one (a first load: one empty page).
        let cursor: string | undefined;
        do {
          const page = await repo.search(parseSearchRequest('ChargeItem', { subject: part.join(','), _count: '1000' }), cursor ? { cursor } : {});
          for (const c of page.resources as ChargeItem[]) {
            const p = c.subject?.reference !== undefined ? byRef.get(c.subject.reference) : undefined;
            if (p !== undefined) out.add(p);
          }
          cursor = part.every((ref) => out.has(byRef.get(ref) as string)) ? undefined : page.next;
        } while (cursor !== undefined);
      }
      return out;
    },

    async anyUnitsBilled(source, personId): Promise<boolean> {
      const page = await repo.search(parseSearchRequest('ChargeItem', { subject: `Patient/${resourceId(source, 'Patient', personId)}`, _count: '1' }));
      return page.resources.length > 0;
    },

    async unitsBilled(source, personId, day): Promise<StoredUnits[]> {
      // Occurrence instants of the day in any offset fall within a day either side of it; the day itself is checked below.
      const from = new Date(Date.parse(`${day}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
      const to = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
      const out: StoredUnits[] = [];
      let cursor: string | undefined;
      do {
        const page = await repo.search(
          parseSearchRequest('ChargeItem', {
            subject: `Patient/${resourceId(source, 'Patient', personId)}`,
            occurrence: [`ge${from}`, `le${to}`],
            _count: '100',
          }),
          cursor ? { cursor } : {},
        );
        for (const c of page.resources as ChargeItem[]) {
          const start = c.occurrencePeriod?.start ?? c.occurrenceDateTime;
          const contactId = recordIdOf(c.identifier, 'contact')?.value;
          if (start !== undefined && contactId !== undefined && localDate(start) === day) {
            out.push({ contactId, units: c.quantity?.value ?? 0 });
          }
        }
        cursor = page.next;
      } while (cursor !== undefined);
      return out;
    },
  };
}
