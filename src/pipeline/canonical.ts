/**
 * The canonical pipeline: record (JSON) -> canonical (zod) -> rules -> FHIR -> validated. Each
 * record is accepted or rejected on its own; a rejected record is reported with its JSON path
 * (`$.episodes[3].contacts[1].durationMinutes`), the stage and the reason, and the rest go on.
 * Records of an episode (reviews, contacts, plan) are records of their own: one bad contact
 * rejects that contact, not the episode.
 *
 * A run keeps only small state across records (ids seen, units billed per person and day,
 * recovery capital totals), so it can stream files of any size.
 */
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { z } from 'zod';
import { Uri, type CollectionName, type EpisodeHeaderRecord, type RecordKind } from '../domain/model';
import { recoveryCapitalChanges, type RecoveryCapitalChange, type RuleSet } from '../domain/rules';
import type { StoredRecords } from '../domain/stored-records';
import type { MapContext, PackageTerms, ReferenceLog } from '../fhir/context';
import { narrativeModeFromEnv, withNarrative, type NarrativeMode } from '../fhir/narrative';
import type { Validator } from '../validation';
import { resolveEpisode, type EpisodeRef } from './episode-ref';
import { splitEpisode } from './episode-split';
import { futureDateIssues, recordIssue, zodIssues, type Stage } from './issues';
import { CHILD_HANDLERS, EPISODE_HEADER, RECORD_HANDLERS, type ChildKind, type RecordHandler, type RecordScope } from './record-handlers';
import { AwaitingFeedMode, FeedMode, FileMode, type ReferredKind, type RunMode } from './run-mode';
import { RunState } from './run-state';
import { StoredContext } from './stored-context';

export type { RecordKind };

/** What happened to one record. */
export interface RecordResult {
  kind: RecordKind;
  path: string;
  id?: string;
  accepted: boolean;
  /** Resources made from the record (empty when rejected). */
  resources: Resource[];
  issues: OperationOutcomeIssue[];
  /** An accepted episode's person (records waiting for that person's open episode are retried when it is stored: awaiting.ts). */
  personId?: string;
}

export interface KindCounts {
  read: number;
  accepted: number;
  rejected: number;
}

export interface RunSummary {
  read: number;
  accepted: number;
  rejected: number;
  resources: number;
  byKind: Partial<Record<RecordKind, KindCounts>>;
  recoveryCapitalChanges: RecoveryCapitalChange[];
}

export interface PipelineDeps {
  validator: Validator;
  rules: RuleSet;
  terms: PackageTerms;
  /** The clock for future-date checks (injected for tests). */
  now?: () => Date;
  /** Organizations known to be 42 CFR Part 2 programs before the run (a mapping's `part2Organizations`). */
  part2Organizations?: readonly string[];
  /**
   * A record with the id of an earlier one in the run is a later version of it, not a duplicate
   * (outside sources: HL7 messages are events, an A08 updates the A04's person, a DFT the SIU's
   * contact). Its resources replace the earlier ones; units billed are counted once.
   */
  laterRecordsUpdate?: boolean;
  /**
   * Which resources get a generated narrative (src/fhir/narrative.ts): `required` (those whose
   * profile needs one: CarePlan), or `all` (every resource, so dom-6 holds). Default: the
   * NARRATIVE environment variable (`all`), else `required`.
   */
  narrative?: NarrativeMode;
  /** Contacts the daily-cap ledger holds before it releases the person-days used least recently (DailyUnitsLedger; default 100,000). */
  ledgerMaxContacts?: number;
  /**
   * Records sent before, as the caller may see them (the lookup port, src/domain/stored-records.ts;
   * the store implements it). With it, references to records not in the run resolve against the
   * store (stored-context.ts) and a child record whose episode is nowhere waits (`awaiting episode
   * <id>`); without it (the CLI without a store) a run knows only its own records.
   */
  stored?: StoredRecords;
  /** Told of every reference to a record the mappers make (the CLI's Bundles for another server: src/outbound/placeholders.ts). */
  references?: ReferenceLog;
  /**
   * With `stored` and `laterRecordsUpdate`: the kinds the source sends (awaiting.ts `sentKinds`).
   * A reference to one of them found neither in the run nor in the store makes its record wait
   * (`awaiting person <id>`: run-mode.ts AwaitingFeedMode).
   */
  awaitedKinds?: readonly ReferredKind[];
}

export type { ChildKind, EpisodeRef };

/** A record run through its handler: its result, and the parsed record when it was accepted. */
interface Handled<T> {
  result: RecordResult;
  value?: T;
}

/**
 * One translation run over the records of one source. The records of each kind go through their
 * handler (record-handlers.ts); what the two kinds of run (a canonical file, an outside feed) do
 * differently with ids is their RunMode (run-mode.ts), chosen here once.
 */
export class CanonicalRun {
  private ctx: MapContext | undefined;
  private storedContext: StoredContext | undefined;
  private readonly mode: RunMode;
  private readonly state: RunState;
  private readonly counts: Partial<Record<RecordKind, KindCounts>> = {};
  private resourceCount = 0;
  private readonly now: () => Date;
  private readonly narrative: NarrativeMode;

  constructor(private readonly deps: PipelineDeps) {
    this.now = deps.now ?? (() => new Date());
    this.narrative = deps.narrative ?? narrativeModeFromEnv();
    this.mode = !deps.laterRecordsUpdate
      ? new FileMode()
      : deps.stored && deps.awaitedKinds?.length
        ? new AwaitingFeedMode(new Set(deps.awaitedKinds), (kind, id) => this.storedContext?.known(kind, id))
        : new FeedMode();
    this.state = new RunState(deps.rules, deps.part2Organizations, deps.ledgerMaxContacts);
  }

  /** Sets the source system; returns issues when it is not a URI (then every record is rejected). */
  setSource(value: unknown): OperationOutcomeIssue[] {
    const parsed = Uri.refine((s) => !s.endsWith('/'), 'Must not end with /').safeParse(value);
    if (!parsed.success) {
      return zodIssues(parsed.error, '$.source', 'canonical');
    }
    this.ctx = { source: parsed.data, rules: this.deps.rules, terms: this.deps.terms, ...(this.deps.references ? { refs: this.deps.references } : {}) };
    this.storedContext = this.deps.stored ? new StoredContext(this.deps.stored, parsed.data, this.state) : undefined;
    return [];
  }

  /** Whether references to records not in the run are looked up in the store (`prepare` before each record). */
  get looksUp(): boolean {
    return this.storedContext !== undefined;
  }

  /** Lookups made in the store so far. */
  get lookups(): number {
    return this.storedContext?.lookups ?? 0;
  }

  /**
   * Looks up, before a record of `kind` is translated, what it refers to outside the run
   * (stored-context.ts); a no-op without a store. `ref`: a child record's episode.
   */
  async prepare(kind: RecordKind, value: unknown, ref?: EpisodeRef): Promise<void> {
    if (this.storedContext && value !== null && typeof value === 'object') await this.storedContext.prepare(kind, value as Record<string, unknown>, ref);
  }

  /**
   * Looks up, before a batch of records is translated, what they refer to outside the run: one
   * question per kind for the batch (stored-context.ts `prefetch`); a no-op without a store.
   */
  async prefetch(records: readonly { kind: RecordKind; value: unknown; ref?: EpisodeRef }[]): Promise<void> {
    if (!this.storedContext) return;
    const pending = records.flatMap((r) => (r.value !== null && typeof r.value === 'object' ? [{ ...r, value: r.value as Record<string, unknown> }] : []));
    if (pending.length) await this.storedContext.prefetch(pending);
  }

  get hasSource(): boolean {
    return this.ctx !== undefined;
  }

  /** Translates one record of a top-level collection (an episode yields its children's results too). */
  translate(collection: CollectionName, index: number, raw: unknown): RecordResult[] {
    return this.translateAt(collection, `$.${collection}[${index}]`, raw);
  }

  /**
   * Translates one record of a collection; issues are reported under `path`. `pre`: errors found
   * before the canonical stage (an outside source's mapping), by path: each rejects the record
   * it is in, so a bad contact of an episode rejects that contact only.
   */
  translateAt(collection: CollectionName, path: string, raw: unknown, pre: OperationOutcomeIssue[] = []): RecordResult[] {
    const handler = RECORD_HANDLERS[collection];
    if (pre.length && collection !== 'episodes') {
      return [this.rejectRecord(handler.kind, path, raw, pre)];
    }
    const ctx = this.ctx;
    if (!ctx) {
      return [
        this.rejectRecord(handler.kind, path, raw, [
          recordIssue('error', 'required', '$.source', 'The file has no valid "source" (the URI of the source system) before its records', 'canonical'),
        ]),
      ];
    }
    if (collection === 'episodes') {
      return this.episode(ctx, path, raw, pre);
    }
    return [this.run(handler, ctx, path, raw, undefined).result];
  }

  /** Warnings that need the whole run (references to records not in it: canonical files only, see RunMode) and the summary. */
  finish(): { issues: OperationOutcomeIssue[]; summary: RunSummary } {
    const issues = this.mode.unresolved();
    const totals = Object.values(this.counts).reduce(
      (s, c) => ({ read: s.read + c.read, accepted: s.accepted + c.accepted, rejected: s.rejected + c.rejected }),
      { read: 0, accepted: 0, rejected: 0 },
    );
    return {
      issues,
      summary: { ...totals, resources: this.resourceCount, byKind: this.counts, recoveryCapitalChanges: recoveryCapitalChanges(this.state.scored) },
    };
  }

  /** An episode and its children (episode-split.ts): a child of a rejected episode is rejected too. */
  private episode(ctx: MapContext, path: string, raw: unknown, pre: OperationOutcomeIssue[]): RecordResult[] {
    const parts = splitEpisode(path, raw, pre);
    const header: Handled<EpisodeHeaderRecord> = parts.headerPre.length
      ? { result: this.rejectRecord('episode', path, parts.header, parts.headerPre) }
      : this.run(EPISODE_HEADER, ctx, path, parts.header, undefined);
    const out = [header.result];
    const episode = header.value;
    // Computed once the header is accepted: the same answer the header's own mapping had.
    const part2 = episode !== undefined && this.state.isPart2(episode);
    for (const child of parts.children) {
      if ('issue' in child) {
        out.push(this.rejectRecord(child.kind, child.path, child.raw, [child.issue]));
      } else if (!episode) {
        out.push(
          this.rejectRecord(child.kind, child.path, child.raw, [
            recordIssue('error', 'invariant', child.path, `Not translated: its episode ${path} was rejected`, 'canonical'),
          ]),
        );
      } else if (child.pre.length) {
        out.push(this.rejectRecord(child.kind, child.path, child.raw, child.pre));
      } else {
        out.push(this.run(CHILD_HANDLERS[child.kind], ctx, child.path, child.raw, { episode, part2 }).result);
      }
    }
    return out;
  }

  /**
   * A contact, review or plan sent on its own (an outside source's row or message). Its episode
   * is the one of that id accepted earlier in this run, else the stored one (with a store, after
   * `prepare`), else the one `ref` names with its person and organization.
   */
  translateChild(kind: ChildKind, path: string, raw: unknown, ref: EpisodeRef): RecordResult {
    const ctx = this.ctx;
    if (!ctx) {
      return this.rejectRecord(kind, path, raw, [recordIssue('error', 'required', '$.source', 'No valid source system before the records', 'canonical')]);
    }
    const stored = this.storedContext;
    const waits: OperationOutcomeIssue[] = [];
    const { episode, issues } = resolveEpisode(
      kind,
      path,
      ref,
      this.state.episodes,
      (k, id, where) => {
        const wait = this.mode.refer(k, id, where);
        if (wait) waits.push(wait);
      },
      stored && ((id) => stored.episode(id)),
      stored && ((personId) => stored.openEpisode(personId)),
    );
    issues.push(...waits);
    if (!episode || issues.some((i) => i.severity === 'error')) {
      return this.rejectRecord(kind, path, raw, issues);
    }
    return this.run(CHILD_HANDLERS[kind], ctx, path, raw, { episode, part2: this.state.isPart2(episode) }).result;
  }

  /** Counts a record rejected before the canonical stage (by the mapping of an outside source). */
  rejectRecord(kind: RecordKind, path: string, raw: unknown, issues: OperationOutcomeIssue[]): RecordResult {
    return this.count(this.reject(kind, path, raw, issues));
  }

  /**
   * Parses a record with its handler's schema, checks ids and dates, maps it and validates every
   * resource. The mapper may add issues; any error rejects the record.
   */
  private run<S extends z.ZodType, A>(handler: RecordHandler<S, A>, ctx: MapContext, path: string, raw: unknown, arg: A): Handled<z.output<S>> {
    const kind = handler.kind;
    const parsed = handler.schema.safeParse(raw);
    if (!parsed.success) {
      return { result: this.rejectRecord(kind, path, raw, zodIssues(parsed.error, path, 'canonical')) };
    }
    const value = parsed.data;
    const id = idOf(value);
    const issues: OperationOutcomeIssue[] = [...futureDateIssues(kind, value, path, this.now())];
    if (id !== undefined) {
      const duplicate = this.mode.duplicate(kind, id, path);
      if (duplicate) issues.push(duplicate);
    }
    let resources: Resource[] = [];
    // State that spans records (daily units, totals, Part 2 people, ids declared) changes only once the record is accepted.
    const onAccept: (() => void)[] = [];
    if (!issues.some((i) => i.severity === 'error')) {
      const refer = (k: ReferredKind, referred: string, where: string): void => {
        const wait = this.mode.refer(k, referred, where);
        if (wait) issues.push(wait);
      };
      const scope: RecordScope = { path, ctx, rules: this.deps.rules, state: this.state, mode: this.mode, refer, issues, onAccept };
      resources = handler.map(value, scope, arg);
      if (this.narrative === 'all') resources = resources.map(withNarrative);
    }
    if (issues.some((i) => i.severity === 'error')) {
      return { result: this.count(this.reject(kind, path, raw, issues, id)) };
    }
    for (const resource of resources) {
      const result = this.deps.validator.validate(resource);
      for (const v of result.issues) {
        if (v.severity === 'error' || v.severity === 'fatal') {
          issues.push(
            recordIssue(
              'error',
              v.code,
              path,
              `${resource.resourceType} made from this record is invalid: ${v.expression?.[0] ?? resource.resourceType}: ${v.details?.text ?? v.diagnostics ?? ''}`,
              'validate',
            ),
          );
        }
      }
    }
    if (issues.some((i) => i.severity === 'error')) {
      return { result: this.count(this.reject(kind, path, raw, issues, id)) };
    }
    for (const effect of onAccept) effect();
    this.mode.link(resources);
    this.resourceCount += resources.length;
    const personId = kind === 'episode' ? (value as { personId?: unknown }).personId : undefined;
    return {
      result: this.count({
        kind,
        path,
        ...(id !== undefined ? { id } : {}),
        ...(typeof personId === 'string' ? { personId } : {}),
        accepted: true,
        resources,
        issues,
      }),
      value,
    };
  }

  private reject(kind: RecordKind, path: string, raw: unknown, issues: OperationOutcomeIssue[], id?: string): RecordResult {
    const rawId = id ?? idOf(raw);
    return { kind, path, ...(rawId !== undefined ? { id: rawId } : {}), accepted: false, resources: [], issues };
  }

  /**
   * Takes a rejected record out of the counts: an outside source's grouped record that is
   * translated again without the rows that failed (translate-source.ts), so it counts once.
   */
  uncount(r: RecordResult): void {
    const c = this.counts[r.kind];
    if (!c || r.accepted || c.rejected === 0) return;
    c.read--;
    c.rejected--;
  }

  private count(r: RecordResult): RecordResult {
    const c = (this.counts[r.kind] ??= { read: 0, accepted: 0, rejected: 0 });
    c.read++;
    if (r.accepted) c.accepted++;
    else c.rejected++;
    return r;
  }
}

/** A record's `id` when it has a string one. */
function idOf(value: unknown): string | undefined {
  return value !== null && typeof value === 'object' && 'id' in value && typeof value.id === 'string' ? value.id : undefined;
}

export type { Stage };
