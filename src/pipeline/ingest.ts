/**
 * `POST /ingest/{source}`: a source's own format in, FHIR out. `canonical` is the native JSON
 * format. With `dryRun` the translated transaction Bundle is returned without storing it;
 * otherwise it is committed as one transaction (PUTs to deterministic ids, so re-sending the same
 * records updates them, never duplicates) and the transaction-response is returned.
 *
 * The answer is a `Parameters` resource: `bundle` (the transaction, or the transaction-response),
 * `outcome` (every per-record issue, with JSON paths), and counts `read` / `accepted` / `rejected`
 * / `resources`, and per canonical record kind a `byKind` part (`kind`, `read`, `accepted`,
 * `rejected`: the web console's dry-run report). Status: 200 when at least one record was accepted (or the file held none),
 * 422 when records were read and none was accepted.
 */
import type { Bundle, BundleEntry, OperationOutcome, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { putEntry } from '../fhir/bundle';
import { badRequest, FhirError, notFound, notImplemented } from '../outcomes';
import type { KindCounts, PipelineDeps } from './canonical';
import type { TranslateReport } from './translate-canonical';
import { translateCanonicalBody, translateForIngest, type PipelineRunner, type SourceTranslator } from './runs';
import type { LoadedSource } from '../translate/types';
import type { RejectRecord, SourceInput, SourceRunReport } from './translate-source';
import { sourceOwners } from './reject-owners';
import type { AwaitingRetries } from './retry-rejects';
import type { RejectOwners } from '../store/rejects';
import { recordIngest, type IngestOutcome } from '../ops/metrics';

export interface IngestDeps extends PipelineDeps {
  /** Commits a transaction Bundle atomically and returns the transaction-response (the store's transaction processor). */
  commit?: (bundle: Bundle) => Promise<Bundle>;
  /** Where a canonical document's run happens: default this thread; the server's worker threads (src/pipeline/pool.ts). */
  translateCanonical?: PipelineRunner['canonical'];
}

export interface SourceIngestDeps extends IngestDeps {
  /**
   * Keeps rejected records with their raw input (the rejects store), after the accepted ones are
   * committed; `owners`: the source's organization and Part 2 programs, for each reject's owner.
   */
  saveRejects?: (rejects: RejectRecord[], owners: RejectOwners) => Promise<unknown>;
  /**
   * Called once the run is stored (its records committed, its rejects kept) with the records
   * others may wait for (episodes, by source id): retries the rejects awaiting them
   * (retry-rejects.ts `retryAwaiting`), the run's own included, so the order of files and messages
   * does not matter.
   */
  retryAwaiting?: (written: { kind: string; id: string; personId?: string }[]) => Promise<AwaitingRetries>;
  /** Where the run happens: default this thread; the server's worker threads (src/pipeline/pool.ts `pooledTranslator`). */
  translate?: SourceTranslator;
}

/** The native source; outside sources are the mapping folders under mappings/. */
export const INGEST_SOURCES = ['canonical'] as const;

export interface IngestResult {
  status: number;
  body: Parameters;
}

/** Counts of an ingest answer; `skipped` and `rejectsKept` only for outside sources. */
interface AnswerCounts {
  read: number;
  accepted: number;
  rejected: number;
  resources: number;
  skipped?: number;
  rejectsKept?: number;
  /** Groups of rows of a grouped feed (the rows are counted in read, accepted, rejected). */
  groupsRead?: number;
  groupsAccepted?: number;
  groupsRejected?: number;
  /** Kept rejects that waited for a record this run stored, retried after it, and how many of them went through. */
  awaitingRetried?: number;
  awaitingResolved?: number;
}

/** Builds the answer: 200 when something was accepted or nothing was rejected, 422 when everything read was rejected. */
export function ingestAnswer(bundle: Bundle, outcome: OperationOutcome, counts: AnswerCounts, byKind: Partial<Record<string, KindCounts>> = {}): IngestResult {
  const parameter: ParametersParameter[] = [
    { name: 'bundle', resource: bundle },
    { name: 'outcome', resource: outcome },
    ...Object.entries(counts).map(([name, value]) => ({ name, valueInteger: value as number })),
    ...Object.entries(byKind).map(([kind, c]): ParametersParameter => ({
      name: 'byKind',
      part: [
        { name: 'kind', valueCode: kind },
        { name: 'read', valueInteger: c?.read ?? 0 },
        { name: 'accepted', valueInteger: c?.accepted ?? 0 },
        { name: 'rejected', valueInteger: c?.rejected ?? 0 },
      ],
    })),
  ];
  const status = counts.rejected > 0 && counts.accepted === 0 ? 422 : 200;
  return { status, body: { resourceType: 'Parameters', parameter } };
}

const noStore = (): FhirError => notImplemented('This server has no store: use ?dryRun=true');

/** Translates (and unless `dryRun`, stores) one ingest body. */
export async function ingest(source: string, body: unknown, dryRun: boolean, deps: IngestDeps): Promise<IngestResult> {
  if (!(INGEST_SOURCES as readonly string[]).includes(source)) {
    throw notFound(`Unknown ingest source '${source}': known sources are ${INGEST_SOURCES.join(', ')}`);
  }
  if (body === undefined) {
    throw badRequest('The request has no body: send the source file as JSON');
  }
  const { resources, report } = await (deps.translateCanonical ?? translateCanonicalBody)(body, deps);
  if (report.fatal && report.summary.read === 0) {
    throw badRequest(report.outcome);
  }
  const entry: BundleEntry[] = resources.map(putEntry);
  const transaction: Bundle = { resourceType: 'Bundle', type: 'transaction', ...(entry.length ? { entry } : {}) };
  if (dryRun || entry.length === 0) {
    if (!dryRun) recordIngest('canonical', kindOutcomes(report.summary, 'from-summary'));
    return ingestAnswer(transaction, report.outcome, canonicalCounts(report), report.summary.byKind);
  }
  if (!deps.commit) throw noStore();
  const answer = ingestAnswer(await deps.commit(transaction), report.outcome, canonicalCounts(report), report.summary.byKind);
  recordIngest('canonical', kindOutcomes(report.summary, 'from-summary'));
  return answer;
}

/**
 * Records by canonical kind and outcome, for the metrics: accepted from the run's summary;
 * rejected and awaiting (kept until the record they name is stored) from the rejects kept, or
 * from the summary when none are kept (the canonical source). Rejects of records that never got a
 * kind are `unknown`.
 */
function kindOutcomes(
  summary: TranslateReport['summary'],
  rejects: readonly RejectRecord[] | 'from-summary',
): Record<string, Partial<Record<IngestOutcome, number>>> {
  const out: Record<string, Partial<Record<IngestOutcome, number>>> = {};
  const add = (kind: string, outcome: IngestOutcome, n: number): void => {
    const k = (out[kind] ??= {});
    k[outcome] = (k[outcome] ?? 0) + n;
  };
  for (const [kind, c] of Object.entries(summary.byKind)) {
    if (c?.accepted) add(kind, 'accepted', c.accepted);
    if (rejects === 'from-summary' && c?.rejected) add(kind, 'rejected', c.rejected);
  }
  for (const r of rejects === 'from-summary' ? [] : rejects)
    add(r.kind ?? 'unknown', r.errors.some((e) => e.reason.startsWith('awaiting ')) ? 'awaiting' : 'rejected', 1);
  return out;
}

const canonicalCounts = ({ summary: s }: TranslateReport): AnswerCounts => ({
  read: s.read,
  accepted: s.accepted,
  rejected: s.rejected,
  resources: s.resources,
});

/** Counts of an outside source are of source records (rows, messages, JSON records). */
/** The answer's counts: rows of a grouped feed are counted as records, its groups as `groupsRead`, `groupsAccepted`, `groupsRejected`. */
const sourceCounts = ({ records, summary }: SourceRunReport, rejectsKept: number): AnswerCounts => {
  const { groups, ...c } = records;
  return {
    ...c,
    resources: summary.resources,
    rejectsKept,
    ...(groups ? { groupsRead: groups.read, groupsAccepted: groups.accepted, groupsRejected: groups.rejected } : {}),
  };
};

/**
 * Translates (and unless `dryRun`, stores) the inputs of an outside source. Accepted records are
 * committed as one transaction first; then the rejected ones are kept in the rejects store, so a
 * failure in between leaves nothing half-said: re-sending updates, never duplicates.
 */
export async function ingestSource(
  source: LoadedSource,
  inputs: SourceInput[],
  dryRun: boolean,
  deps: SourceIngestDeps,
): Promise<IngestResult & { report: SourceRunReport; rejects: RejectRecord[] }> {
  const { resources, rejects, written, report } = await (deps.translate ?? translateForIngest)(source, inputs, deps);
  if (report.fatal && report.records.read === 0) {
    throw badRequest(report.outcome);
  }
  const entry: BundleEntry[] = resources.map(putEntry);
  const transaction: Bundle = { resourceType: 'Bundle', type: 'transaction', ...(entry.length ? { entry } : {}) };
  if (dryRun) {
    return { ...ingestAnswer(transaction, report.outcome, sourceCounts(report, 0), report.summary.byKind), report, rejects };
  }
  if (!deps.commit || (rejects.length > 0 && !deps.saveRejects)) throw noStore();
  const response = entry.length ? await deps.commit(transaction) : transaction;
  if (rejects.length) await deps.saveRejects?.(rejects, sourceOwners(source));
  const awaiting = written.length && deps.retryAwaiting ? await deps.retryAwaiting(written) : undefined;
  const counts = {
    ...sourceCounts(report, rejects.length),
    ...(awaiting?.retried ? { awaitingRetried: awaiting.retried, awaitingResolved: awaiting.resolved } : {}),
  };
  recordIngest(source.name, kindOutcomes(report.summary, rejects));
  return { ...ingestAnswer(response, report.outcome, counts, report.summary.byKind), report, rejects };
}
