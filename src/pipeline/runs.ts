/**
 * A pipeline run before anything is stored: what it made (resources, rejects, the records others
 * may wait for) and where it runs. In this thread: `translateForIngest`, `translateCanonicalBody`;
 * in the server's worker threads: src/pipeline/pool.ts, which runs these same functions there.
 * Ingest (ingest.ts) and reruns of kept rejects (retry-rejects.ts) store what a run made.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { LoadedSource } from '../translate/types';
import { AWAITED_KINDS } from './awaiting';
import type { PipelineDeps } from './canonical';
import type { SourceInput } from './source-inputs';
import { documentEvents, translateCanonical, type TranslateReport } from './translate-canonical';
import { translateSource, type RejectRecord, type SourceRunReport } from './translate-source';

/** What a canonical document's run made, before anything is stored. */
export interface CanonicalTranslation {
  resources: Resource[];
  report: TranslateReport;
}

/** Runs a canonical document (parsed JSON) through the pipeline in this thread. */
export async function translateCanonicalBody(body: unknown, deps: PipelineDeps): Promise<CanonicalTranslation> {
  const resources: Resource[] = [];
  const report = await translateCanonical(documentEvents(body), deps, (made) => {
    resources.push(...made);
  });
  return { resources, report };
}

/** What a run of an outside source made, before anything is stored. */
export interface SourceTranslation {
  /** One per resource: a later record's version of a resource replaces the earlier one's. */
  resources: Resource[];
  rejects: RejectRecord[];
  /** The records others may wait for (episodes, by source id) that the run made. */
  written: { kind: string; id: string; personId?: string }[];
  report: SourceRunReport;
}

/**
 * Runs an outside source's inputs through the pipeline (in this thread: `translateForIngest`; in
 * a worker thread: src/pipeline/pool.ts), for `ingestSource` to store.
 */
export type SourceTranslator = (source: LoadedSource, inputs: SourceInput[], deps: PipelineDeps) => Promise<SourceTranslation>;

/**
 * Where the pipeline runs: in this thread (the default everywhere), or the server's worker
 * threads (src/pipeline/pool.ts `pooledPipeline`). `retry`: reruns of kept rejects, which must not be refused.
 */
export interface PipelineRunner {
  source: SourceTranslator;
  retry: SourceTranslator;
  canonical: (body: unknown, deps: PipelineDeps) => Promise<CanonicalTranslation>;
}

/** Translates an outside source's inputs in this thread, collecting what `ingestSource` stores. */
export async function translateForIngest(source: LoadedSource, inputs: SourceInput[], deps: PipelineDeps): Promise<SourceTranslation> {
  // A later record with an earlier one's id (an A08 after an A04) replaces its resources: one entry per resource.
  const byKey = new Map<string, Resource>();
  const rejects: RejectRecord[] = [];
  const written = new Map<string, { kind: string; id: string; personId?: string }>();
  const report = await translateSource(
    source,
    inputs,
    deps,
    (made, result) => {
      for (const r of made) byKey.set(`${r.resourceType}/${r.id}`, r);
      if (result.id !== undefined && (AWAITED_KINDS as readonly string[]).includes(result.kind))
        written.set(`${result.kind}|${result.id}`, {
          kind: result.kind,
          id: result.id,
          ...(result.personId !== undefined ? { personId: result.personId } : {}),
        });
    },
    { onReject: (r) => void rejects.push(r) },
  );
  return { resources: [...byKey.values()], rejects, written: [...written.values()], report };
}
