/**
 * The two kinds of run, chosen once when a run starts (PipelineDeps.laterRecordsUpdate):
 *
 * - a canonical file is one transaction Bundle: a repeated id is an error, references to records
 *   not in the file are warned about at the end, and references between resources of the run
 *   become their urn:uuid fullUrls;
 * - an outside source's feed is a stream of events (an A08 updates the A04's person, a DFT the
 *   SIU's contact): a repeated id is a later version, and a feed refers to records sent long
 *   before as a rule, so nothing is kept per id (memory would grow with the input) and Type/id
 *   references stay as they are.
 */
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { RecordKind } from '../domain/model';
import { rewriteReferences } from '../fhir/bundle';
import { recordIssue } from './issues';
import { awaitingReason } from './awaiting';

/** Record kinds other records refer to by id. */
export type ReferredKind = 'organization' | 'practitioner' | 'person';

/** What a run does with ids: the only place the two kinds of run differ. */
export interface RunMode {
  /** An error when `id` is the id of an earlier record of `kind` in the run (then not remembered again). */
  duplicate(kind: RecordKind, id: string, path: string): OperationOutcomeIssue | undefined;
  /** A record of `kind` with `id` was accepted. */
  declare(kind: ReferredKind, id: string): void;
  /** A record refers to a `kind` with `id`, at `where` (the first place is kept); an error when the record must wait for it (AwaitingFeedMode). */
  refer(kind: ReferredKind, id: string, where: string): OperationOutcomeIssue | undefined;
  /** The resources of an accepted record: references among the run's resources are rewritten. */
  link(resources: Resource[]): void;
  /** Warnings that need the whole run: references to records not in it. */
  unresolved(): OperationOutcomeIssue[];
}

/** A canonical file: one Bundle, ids unique, references checked at the end. */
export class FileMode implements RunMode {
  private readonly seen = new Map<RecordKind, Set<string>>();
  private readonly declared = { organization: new Set<string>(), practitioner: new Set<string>(), person: new Set<string>() };
  private readonly referenced = { organization: new Map<string, string>(), practitioner: new Map<string, string>(), person: new Map<string, string>() };
  private readonly emitted = new Set<string>();

  duplicate(kind: RecordKind, id: string, path: string): OperationOutcomeIssue | undefined {
    const seen = this.seen.get(kind) ?? new Set<string>();
    this.seen.set(kind, seen);
    if (seen.has(id))
      return recordIssue('error', 'duplicate', `${path}.id`, `Duplicate ${kind} id "${id}": an earlier ${kind} in this run has it`, 'canonical');
    seen.add(id);
    return undefined;
  }

  declare(kind: ReferredKind, id: string): void {
    this.declared[kind].add(id);
  }

  refer(kind: ReferredKind, id: string, where: string): undefined {
    if (!this.referenced[kind].has(id)) this.referenced[kind].set(id, where);
    return undefined;
  }

  link(resources: Resource[]): void {
    for (const r of resources) this.emitted.add(r.id as string);
    for (const r of resources) rewriteReferences(r, this.emitted);
  }

  unresolved(): OperationOutcomeIssue[] {
    const issues: OperationOutcomeIssue[] = [];
    for (const kind of ['organization', 'practitioner', 'person'] as const) {
      for (const [id, where] of this.referenced[kind]) {
        if (!this.declared[kind].has(id)) {
          issues.push(recordIssue('warning', 'not-found', where, `No ${kind} "${id}" in this file: the reference assumes it was sent before`, 'canonical'));
        }
      }
    }
    return issues;
  }
}

/** An outside source's feed: later records update earlier ones; nothing is kept per id. */
export class FeedMode implements RunMode {
  duplicate(): undefined {
    return undefined;
  }

  declare(_kind: ReferredKind, _id: string): void {}

  refer(_kind: ReferredKind, _id: string, _where: string): OperationOutcomeIssue | undefined {
    return undefined;
  }

  link(): void {}

  unresolved(): OperationOutcomeIssue[] {
    return [];
  }
}

/**
 * An outside source's feed with a store (issue 13 item 1): a record referring to a person,
 * organization or practitioner of a kind the source sends (`awaited`), that is neither accepted
 * earlier in the run nor stored (`stored`: what the run's lookups found; undefined when not looked
 * up, then it is not waited for), is rejected as `awaiting <kind> <id>` and retried when that
 * record is stored (retry-rejects.ts `retryAwaiting`). It keeps the ids accepted in the run, one
 * set per kind (as RunState keeps the run's episodes).
 */
export class AwaitingFeedMode extends FeedMode {
  private readonly declared = { organization: new Set<string>(), practitioner: new Set<string>(), person: new Set<string>() };

  constructor(
    private readonly awaited: ReadonlySet<ReferredKind>,
    private readonly stored: (kind: ReferredKind, id: string) => boolean | undefined,
  ) {
    super();
  }

  override declare(kind: ReferredKind, id: string): void {
    if (this.awaited.has(kind)) this.declared[kind].add(id);
  }

  override refer(kind: ReferredKind, id: string, where: string): OperationOutcomeIssue | undefined {
    if (!this.awaited.has(kind) || this.declared[kind].has(id) || this.stored(kind, id) !== false) return undefined;
    return recordIssue('error', 'not-found', where, awaitingReason(kind, id), 'canonical');
  }
}
