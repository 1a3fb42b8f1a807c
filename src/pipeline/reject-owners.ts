/**
 * Who a rejected record belongs to (issue 11 item 2), as far as the pipeline can tell without the
 * store: the Organization the record names, and the resources it is about, as the FHIR ids the
 * record would have made (src/fhir/ids.ts). The rejects store (src/store/rejects.ts `add`) turns
 * these into the reject's owner and 42 CFR Part 2 flag, looking the resources up when the record
 * names no Organization itself.
 */
import { resourceId } from '../fhir/ids';
import type { RejectOwners, RejectSubject } from '../store/rejects';
import type { LoadedSource, MappedRecord } from '../translate/types';

/** A record id as the mapping produced it (unchecked: the record was rejected). */
function idText(value: unknown): string | undefined {
  return (typeof value === 'string' && value !== '') || typeof value === 'number' ? String(value) : undefined;
}

/**
 * What a mapped record is about: its Organization (`organizationId`, an organization record's own
 * id, or its episode's), and the stored resources whose owner it would take, in the order the
 * owner rules (src/access/owner-rules.ts) follow them: a contact, review or plan its episode, then
 * the person; an administration its person; a supervisor's self-assessment the supervisor's role.
 */
export function rejectSubject(system: string, mapped: Pick<MappedRecord, 'kind' | 'value' | 'episode'>): RejectSubject {
  const v = mapped.value;
  const ref = (type: string, id: unknown): { type: string; id: string }[] => {
    const text = idText(id);
    return text === undefined ? [] : [{ type, id: resourceId(system, type, text) }];
  };
  const org = (id: unknown): { organization?: string } => {
    const text = idText(id);
    return text === undefined ? {} : { organization: resourceId(system, 'Organization', text) };
  };
  switch (mapped.kind) {
    case 'organization':
      return { ...org(v.id), refs: [] };
    case 'person':
      return { ...org(v.organizationId), refs: ref('Patient', v.id) };
    case 'practitioner':
      return { ...org(v.organizationId), refs: [...ref('PractitionerRole', v.id), ...ref('Practitioner', v.id)] };
    case 'episode':
      return { ...org(v.organizationId), refs: [...ref('EpisodeOfCare', v.id), ...ref('Patient', v.personId)] };
    case 'recovery-capital':
      return { refs: ref('Patient', v.personId) };
    case 'supervisor-assessment':
      return { refs: ref('PractitionerRole', v.supervisorId) };
    default: {
      // A contact, eligibility review or recovery plan: its episode's.
      const e = mapped.episode ?? {};
      return { ...org(e.organizationId), refs: [...ref('EpisodeOfCare', e.id), ...ref('Patient', e.personId)] };
    }
  }
}

/** A source's own organization and its Part 2 programs (source.yaml), as FHIR Organization ids. */
export function sourceOwners(source: Pick<LoadedSource, 'system' | 'organization' | 'part2Organizations'>): RejectOwners {
  return {
    ...(source.organization !== undefined ? { organization: resourceId(source.system, 'Organization', source.organization) } : {}),
    part2Organizations: source.part2Organizations.map((id) => resourceId(source.system, 'Organization', id)),
  };
}
