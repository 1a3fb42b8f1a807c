/**
 * Owners at write time (the rules: src/access/owner-rules.ts). Every write, the server's own
 * included, resolves the owner of each resource it writes, inside the write's transaction: first
 * among the resources of the same batch (a transaction Bundle writes a Patient and its Encounters
 * together, in any order), then among the stored ones (one query per batch). A client's writes
 * (`withAccess`) are then checked: it may write only what its organizations own, before and after
 * the write (403 otherwise); what no rule decides becomes its organization's when it has exactly
 * one, else the write is refused (422) with how to name the owner.
 */
import type { Resource } from '@medplum/fhirtypes';
import { isPart2Program, ownerRule, PART2_PROGRAM_JSON, targetOf, TENANT_TAG_SYSTEM, type OwnerRule, type Target } from '../access/owner-rules';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { FhirError, unprocessable } from '../outcomes';
import type { RepositoryAccess, SqlDriver } from './repository';

/** What a write stores besides the resource. */
export interface WritePlan {
  /** The owning Organization id; null: shared. */
  owner: string | null;
  /** The owner is a 42 CFR Part 2 program: label the resource if it is a patient's record. */
  part2Owner: boolean;
  /**
   * An AuditEvent about 42 CFR Part 2 records (src/store/audit-owners.ts): their patients. The
   * event is labelled, with these patients as its compartment, so the gate releases it only with
   * a consent of each of them.
   */
  part2Patients?: string[];
}

const forbidden = (text: string): OperationOutcome => ({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'forbidden', details: { text } }] });

const key = (type: string, id: string): string => `${type}/${id}`;

/** The plans (owner, Part 2 owner) of resources written together, in input order; throws 403/422 for a client's forbidden writes. */
export async function planWrites(tx: SqlDriver, resources: Resource[], access?: RepositoryAccess): Promise<WritePlan[]> {
  const rules = resources.map(ownerRule);
  const inBatch = new Map<string, number>();
  resources.forEach((r, i) => r.id && inBatch.set(key(r.resourceType, r.id), i));
  const roles = new Map<string, number>();
  resources.forEach((r, i) => {
    if (r.resourceType === 'PractitionerRole') {
      const t = targetOf((r as { practitioner?: { reference?: string } }).practitioner);
      if (t?.type === 'Practitioner' && !roles.has(t.id)) roles.set(t.id, i);
    }
  });

  const wanted: Target[] = [];
  const practitioners: string[] = [];
  rules.forEach((rule) => {
    if (rule.kind === 'refs') wanted.push(...rule.targets.filter((t) => !inBatch.has(key(t.type, t.id))));
    if (rule.kind === 'practitioner' && !roles.has(rule.id)) practitioners.push(rule.id);
  });
  const stored = new Map<string, string | null>();
  if (wanted.length > 0) {
    const res = await tx.query<{ resource_type: string; id: string; owner: string | null }>(
      `SELECT r.resource_type, r.id, r.owner FROM fhir_resource r JOIN unnest($1::text[], $2::text[]) AS k(t, i)
         ON r.resource_type = k.t AND r.id = k.i WHERE NOT r.deleted`,
      [wanted.map((t) => t.type), wanted.map((t) => t.id)],
    );
    for (const r of res.rows) stored.set(key(r.resource_type, r.id), r.owner);
  }
  const storedRoles = new Map<string, string>();
  if (practitioners.length > 0) {
    const res = await tx.query<{ target_id: string; owner: string }>(
      `SELECT x.target_id, r.owner FROM fhir_reference x JOIN fhir_resource r ON r.resource_type = x.resource_type AND r.id = x.id
        WHERE x.resource_type = 'PractitionerRole' AND x.code = 'practitioner' AND x.target_type = 'Practitioner'
          AND x.target_id = ANY($1::text[]) AND NOT r.deleted AND r.owner IS NOT NULL ORDER BY r.id`,
      [practitioners],
    );
    for (const r of res.rows) if (!storedRoles.has(r.target_id)) storedRoles.set(r.target_id, r.owner);
  }

  // undefined: no rule decided; null: shared.
  const memo = new Map<number, string | null | undefined>();
  const resolve = (i: number, visiting: Set<number>): string | null | undefined => {
    if (memo.has(i)) return memo.get(i);
    if (visiting.has(i)) return undefined;
    visiting.add(i);
    const owner = decide(rules[i], visiting);
    visiting.delete(i);
    memo.set(i, owner);
    return owner;
  };
  const decide = (rule: OwnerRule, visiting: Set<number>): string | null | undefined => {
    switch (rule.kind) {
      case 'org':
        return rule.id;
      case 'shared':
        return null;
      case 'none':
        return undefined;
      case 'practitioner': {
        const at = roles.get(rule.id);
        return (at !== undefined ? resolve(at, visiting) ?? undefined : undefined) ?? storedRoles.get(rule.id);
      }
      case 'refs':
        for (const t of rule.targets) {
          if (t.type === 'Organization') return t.id;
          const at = inBatch.get(key(t.type, t.id));
          const owner = at !== undefined ? resolve(at, visiting) : stored.get(key(t.type, t.id));
          if (typeof owner === 'string') return owner;
        }
        return undefined;
    }
  };
  const owners = resources.map((_, i) => resolve(i, new Set()));

  if (access) {
    await checkWrites(tx, resources, rules, owners, access);
  }

  const orgs = [...new Set(owners.filter((o): o is string => typeof o === 'string'))];
  const part2 = new Set<string>();
  const unknown: string[] = [];
  for (const id of orgs) {
    const at = inBatch.get(key('Organization', id));
    if (at !== undefined) {
      if (isPart2Program(resources[at])) part2.add(id);
    } else {
      unknown.push(id);
    }
  }
  if (unknown.length > 0) {
    const res = await tx.query<{ id: string }>(
      `SELECT id FROM fhir_resource WHERE resource_type = 'Organization' AND id = ANY($1::text[]) AND NOT deleted AND content @> $2::jsonb`,
      [unknown, PART2_PROGRAM_JSON],
    );
    for (const r of res.rows) part2.add(r.id);
  }
  return owners.map((o) => ({ owner: o ?? null, part2Owner: typeof o === 'string' && part2.has(o) }));
}

/** A FHIR id: what an owner must be (a tenant tag could say anything, '*' included). */
const ORGANIZATION_ID = /^[A-Za-z0-9\-.]{1,64}$/;

const may = (access: RepositoryAccess, owner: string | null): boolean => (owner === null ? access.allOrganizations : access.allOrganizations || access.organizations.includes(owner));

/** A client's write: the stored version and the new one must both be its organizations'. Fills in default owners. */
async function checkWrites(tx: SqlDriver, resources: Resource[], rules: OwnerRule[], owners: (string | null | undefined)[], access: RepositoryAccess): Promise<void> {
  const withIds = resources.filter((r) => r.id);
  const current = new Map<string, string | null>();
  if (withIds.length > 0) {
    const res = await tx.query<{ resource_type: string; id: string; owner: string | null }>(
      `SELECT r.resource_type, r.id, r.owner FROM fhir_resource r JOIN unnest($1::text[], $2::text[]) AS k(t, i)
         ON r.resource_type = k.t AND r.id = k.i WHERE NOT r.deleted`,
      [withIds.map((r) => r.resourceType), withIds.map((r) => r.id)],
    );
    for (const r of res.rows) current.set(key(r.resource_type, r.id), r.owner);
  }
  resources.forEach((r, i) => {
    const name = r.id ? `${r.resourceType}/${r.id}` : `the new ${r.resourceType}`;
    if (r.id && current.has(key(r.resourceType, r.id)) && !may(access, current.get(key(r.resourceType, r.id)) ?? null)) {
      throw new FhirError(forbidden(`${name} is not your organizations' to write`), 403);
    }
    let owner = owners[i];
    if (owner === undefined) {
      // A client of every organization must say which one: shared would show it to every tenant.
      if (access.organizations.length === 1 && !access.allOrganizations) {
        owner = access.organizations[0];
      } else {
        throw new FhirError(
          unprocessable(
            `Cannot tell which organization owns ${name}: reference its Patient, EpisodeOfCare or PractitionerRole, or tag it with meta.tag {"system": "${TENANT_TAG_SYSTEM}", "code": "<Organization id>"} naming one of your organizations (${access.organizations.join(', ') || 'none'})`,
            `${r.resourceType}.meta.tag`,
          ),
          422,
        );
      }
      owners[i] = owner;
    }
    if (owner !== null && !ORGANIZATION_ID.test(owner)) {
      throw new FhirError(unprocessable(`The tenant tag of ${name} must name an Organization id, not '${owner}'`, `${r.resourceType}.meta.tag`), 422);
    }
    if (!may(access, owner)) {
      const why =
        owner === null
          ? rules[i].kind === 'shared'
            ? `${r.resourceType} is a shared definition; only a client of every organization may write one (or tag it with meta.tag {"system": "${TENANT_TAG_SYSTEM}", "code": "<Organization id>"} to keep it to one organization)`
            : 'it would be shared by every organization'
          : `it belongs to an organization you are not registered for`;
      throw new FhirError(forbidden(`You may not write ${name}: ${why}`), 403);
    }
  });
}

/** A client's delete: the stored resource must be its organizations' (403 otherwise). */
export async function checkDelete(tx: SqlDriver, type: string, id: string, access?: RepositoryAccess): Promise<void> {
  if (!access) return;
  const res = await tx.query<{ owner: string | null }>('SELECT owner FROM fhir_resource WHERE resource_type = $1 AND id = $2 AND NOT deleted', [type, id]);
  if (res.rows[0] && !may(access, res.rows[0].owner)) {
    throw new FhirError(forbidden(`${type}/${id} is not your organizations' to delete`), 403);
  }
}

