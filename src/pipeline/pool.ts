/**
 * Pipeline runs in worker threads (DESIGN.md: "CPU-heavy work leaves the event loop"): the
 * server's pool (src/validation/pool.ts) runs src/pipeline/pool-worker.ts, whose workers validate
 * request bodies and also run the pipeline for `POST /ingest/{source}`, `POST /ingest/canonical`,
 * reruns of kept rejects and MLLP. Only storing stays in the request's thread: with PGlite that
 * thread runs the database, so a run no longer holds it, and the run uses another core.
 *
 * What a run asks of the store (the lookup port, src/domain/stored-records.ts) is asked back over
 * the worker's port and answered here by the caller's own `stored`: the worker never sees the
 * store, and sees nothing the caller may not see. The worker loads the same mapping files; a
 * mapping whose files changed since this process loaded them is run here instead, so a run never
 * uses a mapping the server did not load.
 */
import { join } from 'node:path';
import type { RuleSet } from '../domain/rules';
import type { StoredRecords } from '../domain/stored-records';
import { FhirError } from '../outcomes';
import type { LoadedSource } from '../translate/types';
import { ValidationPool, type ValidationPoolOptions } from '../validation';
import type { PipelineDeps } from './canonical';
import { translateForIngest, type CanonicalTranslation, type PipelineRunner, type SourceTranslator } from './runs';
import type { SourceInput } from './source-inputs';

/** The lookup port's methods a worker may call (every one of StoredRecords). */
export const STORED_METHODS = [
  'find',
  'episode',
  'anyUnitsBilled',
  'unitsBilled',
  'findMany',
  'episodes',
  'openEpisodes',
  'billedAmong',
] as const satisfies readonly (keyof StoredRecords)[];

/** What a run's PipelineDeps say, as posted to a worker (the validator, rules and terms are the worker's own). */
export interface RunSettings {
  /** The run's clock, fixed at its start (future-date checks). */
  now: number;
  part2Organizations?: readonly string[];
  narrative?: PipelineDeps['narrative'];
  ledgerMaxContacts?: number;
  /** Whether the run resolves records against the store (answered by `call`s to STORED_METHODS). */
  stored: boolean;
}

/** An outside source's run, as posted to a worker. */
export interface SourceJob extends RunSettings {
  /** The mapping: loaded by the worker from `dir`, and checked against `signature` (this thread's). */
  dir: string;
  name: string;
  signature: string;
  inputs: { name: string; chunks: (Uint8Array | string)[]; feed?: string; size?: number }[];
}

/** A pipeline run, as posted to a worker: an outside source's inputs, or a canonical document. */
export type PipelineJob = { translate: SourceJob } | { canonical: RunSettings & { body: unknown } };

/** What the worker answers when its mapping files are not the ones this thread loaded. */
export const MAPPING_CHANGED = 'PEERBRIDGE_MAPPING_CHANGED';

/** A pool whose workers validate and run the pipeline, with the rule set this process loaded. */
export function pipelinePool(options: ValidationPoolOptions & { rules: RuleSet }): ValidationPool {
  const { rules, ...rest } = options;
  return new ValidationPool({ ...rest, worker: { entry: join(__dirname, 'pool-worker'), data: { rules } } });
}

const signatures = new WeakMap<LoadedSource, string>();

/**
 * What a loaded mapping says, as text: its settings, feeds and tables (functions left out: they
 * are compiled from the same text). Equal in both threads when they read the same files.
 */
export function sourceSignature(source: LoadedSource): string {
  let s = signatures.get(source);
  if (s === undefined) {
    s = JSON.stringify(source, (_key, value: unknown) =>
      value instanceof Map ? [...value] : value instanceof RegExp ? String(value) : typeof value === 'function' ? undefined : value,
    );
    signatures.set(source, s);
  }
  return s;
}

function settingsOf(deps: PipelineDeps): RunSettings {
  return {
    now: (deps.now?.() ?? new Date()).getTime(),
    ...(deps.part2Organizations ? { part2Organizations: deps.part2Organizations } : {}),
    ...(deps.narrative ? { narrative: deps.narrative } : {}),
    ...(deps.ledgerMaxContacts !== undefined ? { ledgerMaxContacts: deps.ledgerMaxContacts } : {}),
    stored: deps.stored !== undefined,
  };
}

/** Answers a worker's lookup with the caller's port; only the port's own methods. */
function lookups(stored: StoredRecords | undefined): (method: string, args: unknown[]) => Promise<unknown> {
  return (method, args) => {
    if (!stored || !(STORED_METHODS as readonly string[]).includes(method)) return Promise.reject(new Error(`No such lookup: ${method}`));
    const port = stored as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    return port[method](...args);
  };
}

const busy = (err: unknown): boolean => err instanceof FhirError && err.status === 503;

/**
 * Runs outside sources on `pool`'s workers; falls back to this thread for a mapping changed on
 * disk since start. When every worker is busy and the queue is full the pool refuses (503 with
 * Retry-After: a client's post is told to come back), unless `whenBusy` is `here`: reruns of
 * kept rejects after a commit run in this thread then, so a busy pool never changes why a
 * record waits.
 */
export function pooledTranslator(pool: ValidationPool, whenBusy: 'refuse' | 'here' = 'refuse'): SourceTranslator {
  return async (source: LoadedSource, inputs: SourceInput[], deps: PipelineDeps) => {
    const materialized: SourceJob['inputs'] = [];
    for (const input of inputs) {
      const chunks: (Uint8Array | string)[] = [];
      for await (const c of input.chunks) chunks.push(c);
      materialized.push({
        name: input.name,
        chunks,
        ...(input.feed !== undefined ? { feed: input.feed } : {}),
        ...(input.size !== undefined ? { size: input.size } : {}),
      });
    }
    const job: PipelineJob = {
      translate: { ...settingsOf(deps), dir: source.dir, name: source.name, signature: sourceSignature(source), inputs: materialized },
    };
    try {
      return await pool.task(job, { onCall: lookups(deps.stored) });
    } catch (err) {
      if (err instanceof Error && err.message.includes(MAPPING_CHANGED)) return translateForIngest(source, materialized, deps);
      if (whenBusy === 'here' && busy(err)) return translateForIngest(source, materialized, deps);
      throw err;
    }
  };
}

/** The pipeline on `pool`'s workers: outside sources and canonical documents; reruns of kept rejects here when the pool is full. */
export function pooledPipeline(pool: ValidationPool): PipelineRunner {
  return {
    source: pooledTranslator(pool),
    retry: pooledTranslator(pool, 'here'),
    canonical: (body: unknown, deps: PipelineDeps): Promise<CanonicalTranslation> =>
      pool.task<CanonicalTranslation>({ canonical: { ...settingsOf(deps), body } } satisfies PipelineJob, { onCall: lookups(deps.stored) }),
  };
}
