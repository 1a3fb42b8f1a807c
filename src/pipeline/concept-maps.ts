/**
 * The code tables of the mapping folders, published as FHIR ConceptMaps in the store at start-up
 * (`GET /fhir/ConceptMap`, `POST /fhir/ConceptMap/$translate`). A map is written only when its
 * content changed, so restarts do not pile up versions; ids are fixed (`<source>-<table>`).
 */
import type { ConceptMap } from '@medplum/fhirtypes';
import type { Repository } from '../store/repository';
import { conceptMaps } from '../translate';
import type { LoadedSource } from '../translate/types';
import { FhirError } from '../outcomes';

/** The content without `meta`, keys sorted: the store's jsonb does not keep key order. */
function content(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(content).join(',')}]`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([k, v]) => k !== 'meta' && v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${content(v)}`).join(',')}}`;
}

/** Writes each source's ConceptMaps that are new or changed, in one write; resolves to the number written. */
export async function publishConceptMaps(repo: Repository, sources: Map<string, LoadedSource>): Promise<number> {
  const maps = [...sources.values()].flatMap((source) => conceptMaps(source));
  const current = await Promise.all(
    maps.map((cm) =>
      repo.read<ConceptMap>('ConceptMap', cm.id as string).catch((err: unknown) => {
        if (err instanceof FhirError && (err.status === 404 || err.status === 410)) return undefined;
        throw err;
      }),
    ),
  );
  const changed = maps.filter((cm, i) => {
    const stored = current[i];
    return !stored || content(stored) !== content(cm);
  });
  if (changed.length) await repo.updateMany(changed);
  return changed.length;
}
