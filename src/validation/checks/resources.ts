/**
 * A resource as a whole: the profiles it is checked against (meta.profile and any asked for, else
 * its base definition) and its id's format.
 * https://hl7.org/fhir/R4/profiling.html#profile-uses, https://hl7.org/fhir/R4/datatypes.html#id
 */
import type { Resource } from '@medplum/fhirtypes';
import type { LoadedProfile } from '../definitions';
import { type CheckContext, HL7_SD, type Json } from './context';

const RESOURCE_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * The definitions a resource of `type` is walked against: each known resource profile for its
 * type, from meta.profile and `extraProfiles` (unknown or mismatched ones reported), else the base
 * definition; undefined (reported) when not even that is loaded.
 */
export function resourceTargets(ctx: CheckContext, res: Resource, type: string, path: string, extraProfiles: string[]): LoadedProfile[] | undefined {
  const profileUrls = [...new Set([...(metaProfiles(res) ?? []), ...extraProfiles])];
  const targets: LoadedProfile[] = [];
  for (const url of profileUrls) {
    const p = ctx.defs.profile(url);
    if (!p || p.sd.kind !== 'resource') {
      const where = (metaProfiles(res) ?? []).indexOf(url);
      ctx.report(
        'error',
        'not-found',
        `Unknown profile '${url}': PeerBridge does not know this StructureDefinition, so the resource cannot be checked against it`,
        where >= 0 ? `${path}.meta.profile[${where}]` : path,
      );
      continue;
    }
    if (p.sd.type !== type) {
      ctx.report('error', 'invalid', `Profile '${url}' is for ${p.sd.type} resources, not ${type}`, path);
      continue;
    }
    targets.push(p);
  }
  if (targets.length === 0) {
    const base = ctx.defs.profile(HL7_SD + type);
    if (!base) {
      ctx.report('error', 'not-found', `No definition loaded for ${type}`, path);
      return undefined;
    }
    targets.push(base);
  }
  return targets;
}

/** Resource.id: 1-64 characters of A-Z, a-z, 0-9, - and . */
export function checkResourceId(ctx: CheckContext, res: Resource, path: string): void {
  // R4 types Resource.id as System.String in the snapshot, so the id pattern must be applied here.
  const id = (res as unknown as Json).id;
  if (typeof id === 'string' && !RESOURCE_ID.test(id)) {
    ctx.report(
      'error',
      'value',
      `Invalid resource id '${id}': ids are 1-64 characters of A-Z, a-z, 0-9, '-' and '.'`,
      `${path}.id`,
    );
  }
}

/** The string entries of meta.profile (others are reported where the meta is walked). */
function metaProfiles(res: Resource): string[] | undefined {
  const p = res.meta?.profile;
  return Array.isArray(p) ? p.filter((x): x is string => typeof x === 'string') : undefined;
}
