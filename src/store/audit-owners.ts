/**
 * Owners of AuditEvents (issue 11 item 4): an event belongs to the organization of the records it
 * is about, so an auditor registered for one organization finds only its organization's events
 * and never learns of a record it could not read. Decided on write, in the write's transaction,
 * from the stored versions of the records its `entity.what` references name:
 *
 * - the records' one owner (records nobody owns, such as shared definitions, do not count);
 * - records of several organizations: nobody (the event would show each tenant the others');
 * - no owned record (a search, a create, an unknown id, a token request): the organization of
 *   the client that acted when it has exactly one (`actors`), else nobody.
 *
 * An AuditEvent nobody owns is not shared like other unowned rows: only a client of every
 * organization sees it (OWNED_ONLY_TYPES, src/store/access-sql.ts). An event about 42 CFR Part 2
 * records is labelled and gated like them: its compartment for the gate is those records'
 * patients, so it is released only with a consent of each of them (src/store/sql-write.ts).
 * The records are read from history (their last version that is not a delete), so an event
 * about a deleted record still belongs with it.
 */
import type { AuditEvent, Resource } from '@medplum/fhirtypes';
import { targetOf, type Target } from '../access/owner-rules';
import type { WritePlan } from './owners';
import type { SqlDriver } from './repository';

const key = (t: Target): string => `${t.type}/${t.id}`;

interface TargetRow {
  resource_type: string;
  id: string;
  owner: string | null;
  part2: boolean;
  patient_ids: string[] | null;
}

/** The records an AuditEvent is about (`entity.what` references), without repeats. */
function targetsOf(event: AuditEvent): Target[] {
  const out = new Map<string, Target>();
  for (const entity of Array.isArray(event.entity) ? event.entity : []) {
    const t = targetOf(entity?.what);
    if (t) out.set(key(t), t);
  }
  return [...out.values()];
}

/**
 * `plans` (from planWrites) with those of the AuditEvents among `resources` replaced by the rules
 * above; `actors[i]`: the organization of the client the i-th event records, when it has one.
 */
export async function planAuditEvents(
  tx: SqlDriver,
  resources: Resource[],
  plans: WritePlan[],
  actors?: readonly (string | undefined)[],
): Promise<WritePlan[]> {
  const events = resources.flatMap((r, i) => (r.resourceType === 'AuditEvent' ? [{ i, targets: targetsOf(r) }] : []));
  if (events.length === 0) {
    return plans;
  }
  const wanted = new Map<string, Target>();
  for (const e of events) for (const t of e.targets) wanted.set(key(t), t);
  const stored = new Map<string, TargetRow>();
  if (wanted.size > 0) {
    const targets = [...wanted.values()];
    const res = await tx.query<TargetRow>(
      `SELECT k.t AS resource_type, k.i AS id, v.owner, v.part2, v.patient_ids FROM unnest($1::text[], $2::text[]) AS k(t, i)
         CROSS JOIN LATERAL (SELECT h.owner, h.part2, h.patient_ids FROM fhir_history h
           WHERE h.resource_type = k.t AND h.id = k.i AND NOT h.deleted ORDER BY h.version_id DESC LIMIT 1) v`,
      [targets.map((t) => t.type), targets.map((t) => t.id)],
    );
    for (const r of res.rows) stored.set(`${r.resource_type}/${r.id}`, r);
  }
  const out = [...plans];
  for (const { i, targets } of events) {
    const rows = targets.map((t) => stored.get(key(t))).filter((r): r is TargetRow => !!r);
    const owners = new Set(rows.map((r) => r.owner).filter((o): o is string => o !== null));
    const owner = owners.size === 1 ? [...owners][0] : owners.size > 1 ? null : (actors?.[i] ?? null);
    const part2Patients = [...new Set(rows.filter((r) => r.part2).flatMap((r) => r.patient_ids ?? []))];
    out[i] = { owner, part2Owner: false, ...(part2Patients.length > 0 ? { part2Patients } : {}) };
  }
  return out;
}
