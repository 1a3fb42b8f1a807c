/**
 * `POST /ingest/rejects/$retry`: runs kept rejects (src/store/rejects.ts) again through the
 * source's current mapping, once it is fixed. Each reject is re-run on its own, from its raw input
 * (a CSV row under its header line; a JSON record wrapped where the feed's `records` path finds
 * it; an HL7 message as is):
 * - no record of the re-run rejected: its resources are committed as one transaction Bundle of
 *   PUTs (deterministic ids, so a re-run updates, never duplicates), THEN the reject is resolved.
 *   When the commit fails the reject stays open (attempts + 1, the store's reason);
 * - still rejected: it stays open with attempts + 1 and the new errors (those of the re-run
 *   record with the same kind and id, else all of the re-run's).
 * The answer is a Parameters resource: counts `retried`, `resolved`, `stillRejected`, an
 * `outcome` with each still-rejected reject's reasons, and one `resolvedId` per resolved reject.
 *
 * A client retries only its own rejects (`access`; src/store/rejects.ts): by source and feed it
 * gets only those, and an id it may not see is answered exactly as an unknown id. Its `commit` is
 * its view of the store, so the write rules apply to what a retry stores. The reasons and record
 * id of a Part 2 reject not released to it stay out of the answer.
 */
import type { Bundle, OperationOutcomeIssue, Parameters, ParametersParameter, Resource } from '@medplum/fhirtypes';
import { putEntry } from '../fhir/bundle';
import { parseJsonSelector, type JsonSelector } from '../inbound/json-source';
import { notFound, notImplemented, OperationOutcomeError } from '../outcomes';
import { rejectIssues, withheldIssue, type RejectError, type RejectStore, type StoredReject } from '../store/rejects';
import type { RepositoryAccess } from '../store/repository';
import type { LoadedSource } from '../translate/types';
import type { PipelineDeps } from './canonical';
import { translateForIngest, type SourceTranslator } from './runs';
import { AWAITED_KINDS, awaitingOpenEpisode, awaitingReason } from './awaiting';
import type { StoredKind } from '../domain/stored-records';

export interface RetryRequest {
  source: string;
  /** Only these rejects (else every open reject of the source, or of `feed`). */
  ids?: string[];
  feed?: string;
}

export interface RetryDeps {
  rejects: RejectStore;
  sources: Map<string, LoadedSource>;
  pipeline: PipelineDeps;
  /** Commits a transaction Bundle atomically, returning the transaction-response (the FHIR transaction processor, as the caller sees the store). */
  commit?: (bundle: Bundle) => Promise<Bundle>;
  /** The caller; undefined for the server's unfiltered view. */
  access?: RepositoryAccess;
  /** Where the reruns happen: default this thread; the server's worker threads (src/pipeline/pool.ts). */
  translate?: SourceTranslator;
}

export interface RetryAnswer {
  status: number;
  body: Parameters;
  /** The rejects resolved (their records are stored now); not sent to the client. */
  resolved?: StoredReject[];
}

/** Rejects read per page when retrying every open one. */
const PAGE = 100;

/** The input that reads back as the reject's record alone. */
export function rerunText(source: LoadedSource, reject: Pick<StoredReject, 'raw' | 'header' | 'feed'>): string {
  if (source.format === 'csv') {
    return reject.header !== undefined ? `${reject.header}\n${reject.raw}` : reject.raw;
  }
  if (source.format === 'json') {
    const feed = source.feeds.find((f) => f.name === reject.feed);
    let selector: JsonSelector;
    try {
      selector = parseJsonSelector(feed?.json?.records ?? '$');
    } catch {
      return reject.raw;
    }
    // The raw text goes in as is (not re-serialized), so a record JSON.parse would refuse stays refused.
    return selector.keys.reduceRight((inner, key) => `{${JSON.stringify(key)}:${inner}}`, selector.each ? `[${reject.raw}]` : reject.raw);
  }
  return reject.raw;
}

/** `line 2, column "Minutes"` of the re-run -> `line 13, column "Minutes"` of the original input. */
function relocate(errors: RejectError[], rerunWhere: string, where: string): RejectError[] {
  const at = (s: string): boolean => rerunWhere !== '' && s.startsWith(rerunWhere) && /^(?:$|[,.[ ])/.test(s.slice(rerunWhere.length));
  return errors.map((e) => (e.source !== undefined && at(e.source) ? { ...e, source: where + e.source.slice(rerunWhere.length) } : e));
}

function reasonOf(err: unknown): string {
  if (err instanceof OperationOutcomeError) {
    return (err.outcome.issue ?? []).map((i) => i.details?.text ?? i.diagnostics ?? i.code).join('; ') || err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

interface Rerun {
  /** Why it is still rejected; empty when it now goes through. */
  errors: RejectError[];
  resources: Resource[];
}

/** Runs one reject's raw input through the source's current mapping. */
async function rerun(source: LoadedSource, reject: StoredReject, deps: PipelineDeps, translate: SourceTranslator = translateForIngest): Promise<Rerun> {
  const text = rerunText(source, reject);
  // HL7 messages go to the feed listing their type (a fix may move a type to another feed).
  const feed = source.format !== 'hl7v2' && reject.feed !== undefined ? { feed: reject.feed } : {};
  let run;
  try {
    run = await translate(
      source,
      // HL7 as text: its raw input is already decoded, so its MSH-18 (8859/1...) must not decode it again.
      [{ name: reject.input, chunks: [source.format === 'hl7v2' ? text : Buffer.from(text, 'utf8')], ...feed }],
      deps,
    );
  } catch (err) {
    return { errors: [{ reason: `The retry failed: ${reasonOf(err)}`, stage: 'retry' }], resources: [] };
  }
  const { resources, rejects: found, report } = run;
  if (found.length > 0) {
    const same = found.filter((r) => r.kind === reject.kind && r.id === reject.recordId);
    return { errors: (same.length ? same : found).flatMap((r) => relocate(r.errors, r.where, reject.where)), resources: [] };
  }
  if (report.fatal !== undefined) {
    return { errors: [{ reason: report.fatal, stage: 'parse' }], resources: [] };
  }
  if (report.records.read === 0) {
    return { errors: [{ reason: 'The raw input holds no record the current mapping reads', stage: 'parse' }], resources: [] };
  }
  return { errors: [], resources };
}

/** Retries open rejects of a source (all of them, of one feed, or the ones named). */
export async function retryRejects(req: RetryRequest, deps: RetryDeps): Promise<RetryAnswer> {
  const source = deps.sources.get(req.source);
  if (!source) {
    const known = [...deps.sources.keys()].join(', ') || 'none';
    throw notFound(`Unknown source '${req.source}' (known sources: ${known})`);
  }
  const commit = deps.commit;
  if (!commit) {
    throw notImplemented('This server has no store to commit retried records to');
  }
  const issues: OperationOutcomeIssue[] = [];
  const resolvedIds: string[] = [];
  const resolved: StoredReject[] = [];
  let retried = 0;
  let still = 0;

  const retryOne = async (reject: StoredReject): Promise<void> => {
    retried++;
    const rerunResult = await rerun(source, reject, deps.pipeline, deps.translate);
    const { resources } = rerunResult;
    let { errors } = rerunResult;
    if (errors.length === 0 && resources.length > 0) {
      try {
        await commit({ resourceType: 'Bundle', type: 'transaction', entry: resources.map(putEntry) });
      } catch (err) {
        errors = [{ reason: `The records went through but could not be stored: ${reasonOf(err)}`, stage: 'store' }];
      }
    }
    if (errors.length === 0) {
      await deps.rejects.resolve(reject.id);
      resolvedIds.push(reject.id);
      resolved.push(reject);
      return;
    }
    still++;
    await deps.rejects.retried(reject.id, errors);
    const recordId = reject.released && reject.recordId !== undefined ? ` ${reject.recordId}` : '';
    const what = `reject ${reject.id} (${reject.input} ${reject.where}${reject.kind ? `, ${reject.kind}` : ''}${recordId})`;
    issues.push(...(reject.released ? rejectIssues(errors, what) : [withheldIssue(what)]));
  };

  if (req.ids !== undefined) {
    const found = await deps.rejects.get(req.ids, deps.access);
    const byId = new Map(found.map((r) => [r.id.toLowerCase(), r]));
    const done = new Set<string>();
    for (const id of req.ids) {
      const key = id.toLowerCase();
      if (done.has(key)) continue;
      done.add(key);
      const r = byId.get(key);
      const why =
        r === undefined
          ? 'no such reject'
          : r.source !== req.source
            ? `it is a reject of source ${r.source}`
            : req.feed !== undefined && r.feed !== req.feed
              ? `it is a reject of feed ${r.feed ?? '(none)'}`
              : r.status !== 'open'
                ? 'it is already resolved'
                : undefined;
      if (why !== undefined || r === undefined) {
        issues.push({ severity: 'warning', code: 'not-found', details: { text: `Reject ${id} was not retried: ${why}` }, expression: ['id'] });
        continue;
      }
      await retryOne(r);
    }
  } else {
    // Keyset pages: resolving or updating the rejects already seen does not move the cursor.
    let cursor: string | undefined;
    do {
      const page = await deps.rejects.list({
        source: req.source,
        ...(req.feed !== undefined ? { feed: req.feed } : {}),
        status: 'open',
        count: PAGE,
        cursor,
        access: deps.access,
      });
      for (const r of page.items) await retryOne(r);
      cursor = page.next;
    } while (cursor !== undefined);
  }

  if (issues.length === 0) {
    issues.push({
      severity: 'information',
      code: 'informational',
      details: {
        text:
          retried === 0
            ? `No open rejects of source ${req.source}${req.feed !== undefined ? ` feed ${req.feed}` : ''}`
            : `All ${retried} rejects went through and were resolved`,
      },
    });
  }
  const parameter: ParametersParameter[] = [
    { name: 'retried', valueInteger: retried },
    { name: 'resolved', valueInteger: resolvedIds.length },
    { name: 'stillRejected', valueInteger: still },
    { name: 'outcome', resource: { resourceType: 'OperationOutcome', issue: issues } },
    ...resolvedIds.map((id): ParametersParameter => ({ name: 'resolvedId', valueString: id })),
  ];
  return { status: 200, body: { resourceType: 'Parameters', parameter }, resolved };
}

/** Rounds of `retryAwaiting`: a retried record may be awaited in turn (a contact waiting for an episode that waited for ...). */
const AWAITING_ROUNDS = 5;

/** What `retryAwaiting` did. */
export interface AwaitingRetries {
  retried: number;
  resolved: number;
}

/**
 * Retries the open rejects of `source` that wait for one of the records just stored (`written`,
 * by kind and source id: their reason is `awaiting <kind> <id>`, stored-context.ts), as the
 * caller (`deps.access`, `deps.commit`, and a pipeline whose `stored` is the caller's view): a
 * reject the caller may not see is not retried by it. Called after an ingest's commit, so the
 * order in which files and messages arrive does not matter. The records a retry stores may be
 * awaited too: up to AWAITING_ROUNDS rounds.
 */
export async function retryAwaiting(
  source: string,
  written: Iterable<{ kind?: string; id?: string; personId?: string }>,
  deps: RetryDeps,
): Promise<AwaitingRetries> {
  const done: AwaitingRetries = { retried: 0, resolved: 0 };
  let reasons = awaitedReasons(written);
  for (let round = 0; round < AWAITING_ROUNDS && reasons.length > 0; round++) {
    const ids = await deps.rejects.awaiting(source, reasons, deps.access);
    if (ids.length === 0) break;
    const answer = await retryRejects({ source, ids }, deps);
    done.retried += ids.length;
    const resolved = answer.resolved ?? [];
    done.resolved += resolved.length;
    reasons = awaitedReasons(resolved.map((r) => ({ kind: r.kind, id: r.recordId })));
  }
  return done;
}

/** The reasons of rejects waiting for these records (only kinds a record can wait for). */
function awaitedReasons(written: Iterable<{ kind?: string; id?: string; personId?: string }>): string[] {
  const out = new Set<string>();
  for (const w of written) {
    if (w.id !== undefined && (AWAITED_KINDS as readonly (string | undefined)[]).includes(w.kind)) out.add(awaitingReason(w.kind as StoredKind, w.id));
    // An episode stored for a person: the records that named only that person (an SIU without PV1-19) try again.
    if (w.kind === 'episode' && w.personId !== undefined) out.add(awaitingOpenEpisode(w.personId));
  }
  return [...out];
}
