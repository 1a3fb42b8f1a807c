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
import { conflict, forbidden, notFound, operationOutcome, unprocessable } from '../outcomes';
import { inTenant, releaseRows, type AccessRow } from './access-sql';
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

const key = (type: string, id: string): string => `${type}/${id}`;

/** A stored row's access columns, as `planWrites` and `checkWrites` read them. */
interface StoredRow extends AccessRow {
  deleted: boolean;
}

const STORED_SQL = `SELECT r.resource_type, r.id, r.owner, r.part2, r.patient_ids, r.deleted FROM fhir_resource r
  JOIN unnest($1::text[], $2::text[]) AS k(t, i) ON r.resource_type = k.t AND r.id = k.i`;

async function storedRows(tx: SqlDriver, targets: Target[]): Promise<Map<string, StoredRow>> {
  const out = new Map<string, StoredRow>();
  if (targets.length === 0) return out;
  const res = await tx.query<StoredRow & { resource_type: string; id: string }>(STORED_SQL, [targets.map((t) => t.type), targets.map((t) => t.id)]);
  for (const r of res.rows) out.set(key(r.resource_type, r.id), r);
  return out;
}

/**
 * The plans (owner, Part 2 owner) of resources written together, in input order; throws for a
 * client's forbidden writes (see `checkWrites`). `serverAssigned` holds the `Type/id` keys whose
 * ids the server just made up (a create, a POST entry of a Bundle): they exist nowhere yet.
 */
export async function planWrites(tx: SqlDriver, resources: Resource[], access?: RepositoryAccess, serverAssigned?: ReadonlySet<string>): Promise<WritePlan[]> {
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
    if (rule.kind === 'refs') wanted.push(...rule.targets.filter((t) => t.type !== 'Organization' && !inBatch.has(key(t.type, t.id))));
    if (rule.kind === 'practitioner' && !roles.has(rule.id)) practitioners.push(rule.id);
  });
  const stored = await storedRows(tx, wanted);
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
        return (at !== undefined ? (resolve(at, visiting) ?? undefined) : undefined) ?? storedRoles.get(rule.id);
      }
      case 'refs': {
        const found = new Set<string>();
        for (const t of rule.targets) {
          const at = inBatch.get(key(t.type, t.id));
          const row = at === undefined ? stored.get(key(t.type, t.id)) : undefined;
          const owner = t.type === 'Organization' ? t.id : at !== undefined ? resolve(at, visiting) : row && !row.deleted ? row.owner : undefined;
          if (typeof owner === 'string' && !rule.unanimous) return owner;
          if (typeof owner === 'string') found.add(owner);
        }
        // A Group's members (rule 6): their one organization, none when they have several.
        return found.size === 1 ? [...found][0] : rule.declared;
      }
    }
  };
  const owners = resources.map((_, i) => resolve(i, new Set()));

  if (access) {
    await checkWrites(tx, { resources, rules, owners, stored, inBatch, serverAssigned }, access);
  }

  // A record is a Part 2 program's when its owner is one, or when it names one as its own organization.
  const declared = rules.map((r) => (r.kind === 'refs' ? r.declared : undefined));
  const orgs = [...new Set([...owners, ...declared].filter((o): o is string => typeof o === 'string'))];
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
  return owners.map((o, i) => ({
    owner: o ?? null,
    part2Owner: (typeof o === 'string' && part2.has(o)) || (declared[i] !== undefined && part2.has(declared[i])),
  }));
}

/** A FHIR id: what an owner must be (a tenant tag could say anything, '*' included). */
const ORGANIZATION_ID = /^[A-Za-z0-9\-.]{1,64}$/;

const may = (access: RepositoryAccess, owner: string | null): boolean =>
  owner === null ? access.allOrganizations : access.allOrganizations || access.organizations.includes(owner);

/** What `checkWrites` needs of `planWrites`' work. */
interface Batch {
  resources: Resource[];
  rules: OwnerRule[];
  /** Decided owners; undefined entries are filled in with the client's default. */
  owners: (string | null | undefined)[];
  /** Stored rows of the resources referenced (FOLLOWED elements) that are not in the batch. */
  stored: Map<string, StoredRow>;
  inBatch: Map<string, number>;
  serverAssigned?: ReadonlySet<string>;
}

/**
 * May the client write into, or about, this stored row? It must be in the client's tenant (a
 * tombstone only that), and a live 42 CFR Part 2 record must be released to it by consent, as for
 * reads (src/store/access-sql.ts), or be owned by an organization the client is registered for by
 * name: the program's own client writes its program's records.
 */
async function writable(tx: SqlDriver, access: RepositoryAccess, type: string, row: StoredRow | undefined): Promise<boolean> {
  if (!row || !inTenant(access, row, type)) return false;
  if (row.deleted || !row.part2 || (row.owner !== null && access.organizations.includes(row.owner))) return true;
  return (await releaseRows(tx, access, [row])).rows.length === 1;
}

/**
 * A client's write (issue 11 items 1, 5 and 6). No answer may tell a client whether an id or a
 * record it cannot read exists, so what it cannot see answers exactly as what does not exist:
 * - the written id: one the client cannot read (unknown, another tenant's, a Part 2 record
 *   withheld from it) may be created only by a client registered to assign ids (`assignIds`); any
 *   other client gets the same 404 for both. For an assigning client an unknown id is created and
 *   a hidden one answers 409 (the id is taken): that client can tell the two apart, which is why
 *   registering it is an admin's decision (README, "What a client can learn"). Ids the server
 *   made up (`serverAssigned`) exist nowhere and need no check;
 * - the records written about: each resource referenced by an element that decides ownership
 *   (a Patient, EpisodeOfCare, Encounter, ...) must be in the batch or stored and readable by the
 *   client; missing and unreadable answer the same 422;
 * - the owner (the patient's organization, see src/access/owner-rules.ts) must be one of the
 *   client's organizations (403), and a Consent's owner one it is registered for by name: only
 *   the organization that owns the patient writes the Consents that release its records.
 */
async function checkWrites(tx: SqlDriver, batch: Batch, access: RepositoryAccess): Promise<void> {
  const { resources, rules, owners, stored, inBatch, serverAssigned } = batch;
  const own = resources.filter((r) => r.id && !serverAssigned?.has(key(r.resourceType, r.id)));
  const current = await storedRows(
    tx,
    own.map((r) => ({ type: r.resourceType, id: r.id as string })),
  );
  for (const [i, r] of resources.entries()) {
    const assigned = !r.id || serverAssigned?.has(key(r.resourceType, r.id));
    const name = assigned ? `the new ${r.resourceType}` : `${r.resourceType}/${r.id}`;
    if (!assigned) {
      const row = current.get(key(r.resourceType, r.id as string));
      if (!(await writable(tx, access, r.resourceType, row))) {
        if (!access.assignIds) {
          throw notFound(`${name} not found: your client may update only resources it can read (create new ones with POST, which assigns the id)`);
        }
        if (row) {
          throw conflict(`${name} cannot be created: the id is taken`);
        }
      }
    }
    const rule = rules[i];
    if (rule.kind === 'refs') {
      for (const t of rule.targets) {
        if (t.type === 'Organization' || inBatch.has(key(t.type, t.id))) continue;
        const row = stored.get(key(t.type, t.id));
        if (!row || row.deleted || !(await writable(tx, access, t.type, row))) {
          throw unprocessable(operationOutcome('not-found', `${name} refers to ${t.type}/${t.id}, which is not found`));
        }
      }
    }
    let owner = owners[i];
    if (owner === undefined) {
      // A client of every organization must say which one: shared would show it to every tenant.
      if (access.organizations.length === 1 && !access.allOrganizations) {
        owner = access.organizations[0];
      } else {
        throw unprocessable(
          `Cannot tell which organization owns ${name}: reference its Patient, EpisodeOfCare or PractitionerRole, or tag it with meta.tag {"system": "${TENANT_TAG_SYSTEM}", "code": "<Organization id>"} naming one of your organizations (${access.organizations.join(', ') || 'none'})`,
          `${r.resourceType}.meta.tag`,
        );
      }
      owners[i] = owner;
    }
    if (owner !== null && !ORGANIZATION_ID.test(owner)) {
      throw unprocessable(`The tenant tag of ${name} must name an Organization id, not '${owner}'`, `${r.resourceType}.meta.tag`);
    }
    if (!may(access, owner)) {
      const why =
        owner === null
          ? rule.kind === 'shared'
            ? `${r.resourceType} is a shared definition; only a client of every organization may write one (or tag it with meta.tag {"system": "${TENANT_TAG_SYSTEM}", "code": "<Organization id>"} to keep it to one organization)`
            : 'it would be shared by every organization'
          : `it belongs to an organization you are not registered for`;
      throw forbidden(`You may not write ${name}: ${why}`);
    }
    if (r.resourceType === 'Consent' && owner !== null && !access.organizations.includes(owner)) {
      throw forbidden(
        `You may not write ${name}: a Consent is written by the organization that owns its patient (${owner}), and your client is not registered for it by name`,
      );
    }
  }
}

/**
 * A client's delete: true to go on. What the client cannot read is, for it, already gone: the
 * delete succeeds without touching it, as for an unknown id (so the answer says nothing of it).
 * A record it can read but not write (a shared definition) is a 403.
 */
export async function checkDelete(tx: SqlDriver, type: string, id: string, access?: RepositoryAccess): Promise<boolean> {
  if (!access) return true;
  const row = (await storedRows(tx, [{ type, id }])).get(key(type, id));
  if (!(await writable(tx, access, type, row))) return false;
  if (!row!.deleted && !may(access, row!.owner)) {
    throw forbidden(`${type}/${id} is not your organizations' to delete`);
  }
  return true;
}
