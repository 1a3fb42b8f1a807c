/**
 * A resource as a whole: the profiles it is checked against (meta.profile and any asked for, else
 * its base definition) and its id's format.
 * https://hl7.org/fhir/R4/profiling.html#profile-uses, https://hl7.org/fhir/R4/datatypes.html#id
 */
import type { Resource } from '@medplum/fhirtypes';
import type { LoadedProfile } from '../definitions';
import { canonicalUrl } from '../terminology';
import { article, type CheckContext, HL7_SD, type Json } from './context';

const RESOURCE_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/**
 * The definitions a resource of `type` is walked against: each known resource profile for its
 * type, from meta.profile and `extraProfiles`, else the base definition; undefined (reported) when
 * not even that is loaded.
 *
 * An unknown profile in meta.profile is a warning and the resource is checked against its base
 * type, as the reference validator does ("Profile reference '...' has not been checked because it
 * is unknown"); an error with `policy.strictProfiles`. A profile asked for (`extraProfiles`, the
 * CLI's --profile) that is unknown stays an error: the caller wanted that check and it cannot be made.
 * So is one under the canonical URL of a loaded package (see reportUnknownProfile).
 */
export function resourceTargets(ctx: CheckContext, res: Resource, type: string, path: string, extraProfiles: string[]): LoadedProfile[] | undefined {
  const declared = metaProfiles(res) ?? [];
  const profileUrls = [...new Set([...declared, ...extraProfiles])];
  const targets: LoadedProfile[] = [];
  for (const url of profileUrls) {
    const p = ctx.defs.profile(url);
    const where = declared.indexOf(url);
    const at = where >= 0 ? `${path}.meta.profile[${where}]` : path;
    if (!p) {
      reportUnknownProfile(ctx, url, type, at, where < 0 || ctx.policy.strictProfiles);
      continue;
    }
    if (p.sd.kind !== 'resource') {
      ctx.report('error', 'invalid', `Profile '${url}' is not a resource profile: it defines ${article(p.sd.type ?? 'type')} ${p.sd.type ?? 'type'}`, at);
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

/**
 * An unknown profile, with why when that is known (a package not loaded, a definition that could
 * not be used). A URL under the canonical of a package that is loaded (PeerBridge's own, an IG) is
 * an error whatever the policy: that package has no such profile, so the claim is wrong, not unchecked.
 */
function reportUnknownProfile(ctx: CheckContext, url: string, type: string, at: string, asError: boolean): void {
  const broken = ctx.defs.brokenDefinitions.get(canonicalUrl(url));
  const owner = broken ? undefined : ctx.defs.loadedPackageFor(url);
  if (owner) {
    ctx.report('error', 'not-found', `Unknown profile '${url}': package ${owner} is loaded and has no such StructureDefinition`, at);
    return;
  }
  const missing = broken ? undefined : ctx.defs.missingDependencyFor(url);
  const why = broken
    ? ` (its definition could not be used: ${broken})`
    : missing
      ? ` (it is in package ${missing.name}#${missing.version}, a dependency of ${missing.neededBy} that is not loaded)`
      : '';
  const text = `Profile reference '${url}' has not been checked because it is unknown${why}`;
  ctx.report(asError ? 'error' : 'warning', 'not-found', asError ? text : `${text}; the resource is checked against the base ${type} definition`, at);
}

/** Resource.id: 1-64 characters of A-Z, a-z, 0-9, - and . */
export function checkResourceId(ctx: CheckContext, res: Resource, path: string): void {
  // R4 types Resource.id as System.String in the snapshot, so the id pattern must be applied here.
  const id = (res as unknown as Json).id;
  if (typeof id === 'string' && !RESOURCE_ID.test(id)) {
    ctx.report('error', 'value', `Invalid resource id '${id}': ids are 1-64 characters of A-Z, a-z, 0-9, '-' and '.'`, `${path}.id`);
  }
}

/** The string entries of meta.profile (others are reported where the meta is walked). */
function metaProfiles(res: Resource): string[] | undefined {
  const p = res.meta?.profile;
  return Array.isArray(p) ? p.filter((x): x is string => typeof x === 'string') : undefined;
}
