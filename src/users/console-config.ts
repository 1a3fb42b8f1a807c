/**
 * `GET /console/api/config`: what the console's pages offer to choose from: the resource profiles
 * the validator has loaded (PeerBridge's own and those of IG_PACKAGES), the FHIR packages loaded,
 * and the outside sources (mapping folders) `POST /ingest/{source}` takes.
 */
import type { StructureDefinition } from '@medplum/fhirtypes';
import type { Validator } from '../validation';

export interface ConsoleConfigBody {
  authDisabled: boolean;
  profiles: { url: string; name: string; title: string; type: string }[];
  packages: { name: string; version: string }[];
  mappings: string[];
}

/** The last path segment of a canonical URL (a profile's id, standing in for its name). */
const tail = (url: string): string => url.slice(url.lastIndexOf('/') + 1);

export function consoleConfig(validator: Validator, mappings: Iterable<string>, authDisabled: boolean): ConsoleConfigBody {
  const profiles = new Map<string, ConsoleConfigBody['profiles'][number]>();
  for (const r of validator.defs.packageResourceList) {
    const sd = r as StructureDefinition;
    if (sd.resourceType !== 'StructureDefinition' || sd.kind !== 'resource' || sd.derivation !== 'constraint' || !sd.url) continue;
    profiles.set(sd.url, { url: sd.url, name: sd.name ?? tail(sd.url), title: sd.title ?? sd.name ?? tail(sd.url), type: sd.type });
  }
  // IG profiles by their package index (their files are read only when a resource names them).
  for (const p of validator.defs.packageProfiles()) {
    if (!profiles.has(p.url)) profiles.set(p.url, { url: p.url, name: tail(p.url), title: tail(p.url), type: p.type });
  }
  return {
    authDisabled,
    profiles: [...profiles.values()].sort((a, b) => a.type.localeCompare(b.type) || a.url.localeCompare(b.url)),
    packages: validator.defs.loadedPackages(),
    mappings: [...mappings].sort(),
  };
}
