/**
 * Where a reject belongs (issue 11 item 2): its owner, whether it is a 42 CFR Part 2 reject, its
 * patient and the posting client, decided by `RejectStore.add` (src/store/rejects.ts, whose header
 * describes the access columns) from what the record is about and what the store holds.
 */
import { PART2_PROGRAM_JSON } from '../access/owner-rules';
import type { RejectOwners, RejectRecord } from './reject-types';
import type { SqlDriver } from './repository';

/** Where a reject belongs (the `ingest_reject` access columns). */
export interface Placement {
  owner: string | null;
  part2: boolean;
  patientId: string | null;
  clientId: string | null;
}

/** A stored resource a reject may be about. */
interface Subject {
  owner: string | null;
  part2: boolean;
  patient: string | null;
}

/**
 * Where each reject belongs (issue 11 item 2). The owner is the first of: the Organization its
 * record names; the owner of the first stored resource it is about (its episode, its person); the
 * source's organization; the posting client's organization when it has exactly one. A client may
 * place a reject only in its own organizations (what it may write): a candidate it is not
 * registered for is passed over, so a record naming or about another tenant is the client's own
 * reject, never planted in the other tenant's list, and whether that tenant holds the record
 * shows nowhere. It is Part 2 when its owner is a Part 2 program (the source says so, or its
 * stored Organization is marked one) or a stored resource it is about, of the same owner, is
 * labelled 42CFRPart2. The patient is the one it names, else that of its episode.
 */
export async function placeRejects(db: SqlDriver, rejects: RejectRecord[], o: RejectOwners): Promise<Placement[]> {
  const access = o.access;
  const may = (org: string): boolean => !access || access.allOrganizations || access.organizations.includes(org);
  const key = (type: string, id: string): string => `${type}/${id}`;
  const refs = new Map<string, { type: string; id: string }>();
  for (const r of rejects) for (const t of r.about?.refs ?? []) refs.set(key(t.type, t.id), t);
  const stored = new Map<string, Subject>();
  if (refs.size > 0) {
    const wanted = [...refs.values()];
    const res = await db.query<{ resource_type: string; id: string; owner: string | null; part2: boolean; patient: string | null }>(
      `SELECT r.resource_type, r.id, r.owner, r.part2, r.patient_ids[1] AS patient FROM fhir_resource r
         JOIN unnest($1::text[], $2::text[]) AS k(t, i) ON r.resource_type = k.t AND r.id = k.i WHERE NOT r.deleted`,
      [wanted.map((t) => t.type), wanted.map((t) => t.id)],
    );
    for (const r of res.rows) stored.set(key(r.resource_type, r.id), { owner: r.owner, part2: r.part2 === true, patient: r.patient });
  }
  const single = access && !access.allOrganizations && access.organizations.length === 1 ? access.organizations[0] : undefined;
  const placed = rejects.map((r) => {
    const about = (r.about?.refs ?? []).map((t) => ({ ...t, stored: stored.get(key(t.type, t.id)) }));
    const candidates = [r.about?.organization, ...about.map((t) => t.stored?.owner ?? undefined), o.organization, single];
    const owner = candidates.find((c): c is string => typeof c === 'string' && may(c)) ?? null;
    const patientId = about.find((t) => t.type === 'Patient')?.id ?? about.find((t) => t.stored?.patient)?.stored?.patient ?? null;
    const labelled = owner !== null && about.some((t) => t.stored?.part2 && t.stored.owner === owner);
    return { owner, part2: labelled, patientId, clientId: access?.clientId ?? null };
  });
  const part2 = new Set(o.part2Organizations ?? []);
  const unknown = [...new Set(placed.flatMap((p) => (p.owner !== null && !p.part2 && !part2.has(p.owner) ? [p.owner] : [])))];
  if (unknown.length > 0) {
    const res = await db.query<{ id: string }>(
      `SELECT id FROM fhir_resource WHERE resource_type = 'Organization' AND id = ANY($1::text[]) AND NOT deleted AND content @> $2::jsonb`,
      [unknown, PART2_PROGRAM_JSON],
    );
    for (const r of res.rows) part2.add(r.id);
  }
  return placed.map((p) => ({ ...p, part2: p.part2 || (p.owner !== null && part2.has(p.owner)) }));
}
