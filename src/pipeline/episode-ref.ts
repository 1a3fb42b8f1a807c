/**
 * The episode of a contact, review or plan sent on its own (an outside source's row or message):
 * the one of that id accepted earlier in the run, else the one stored (when the run has a store:
 * stored-context.ts), else the one the record names with its person and organization. With a
 * store, a record whose episode is in none of these waits: its reason is `awaiting episode <id>`,
 * and it is retried when the episode arrives (retry-rejects.ts `retryAwaiting`). A stored episode
 * the caller may not read is not found: the same answer as a missing one, naming only the id the
 * record itself gave.
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { RecordId, type EpisodeLink } from '../domain/model';
import type { StoredEpisode } from '../domain/stored-records';
import { recordIssue, zodIssues } from './issues';
import { awaitingOpenEpisode, awaitingReason } from './awaiting';
import type { ChildKind } from './record-handlers';
import type { ReferredKind } from './run-mode';

/** The episode a contact, review or plan sent on its own belongs to (a mapping's `episode.*` targets). */
export interface EpisodeRef {
  id?: unknown;
  personId?: unknown;
  organizationId?: unknown;
}

/**
 * Finds the episode `ref` names for the `kind` record at `path`, among `episodes` (accepted in this
 * run), else `stored` (episodes sent before; undefined: no store); `refer` hears the person and
 * organization of an episode not in the run. No episode, or an error among the issues, rejects the record.
 */
export function resolveEpisode(
  kind: ChildKind,
  path: string,
  ref: EpisodeRef,
  episodes: ReadonlyMap<string, EpisodeLink>,
  refer: (kind: ReferredKind, id: string, where: string) => void,
  stored?: (id: string) => StoredEpisode | undefined,
  open?: (personId: string) => StoredEpisode | undefined,
): { episode?: EpisodeLink; issues: OperationOutcomeIssue[] } {
  const issues: OperationOutcomeIssue[] = [];
  const field = (name: keyof EpisodeRef): string | undefined => {
    const v = ref[name];
    if (v === undefined) return undefined;
    const parsed = RecordId.safeParse(v);
    if (!parsed.success) {
      issues.push(...zodIssues(parsed.error, `${path}.episode.${name}`, 'canonical'));
      return undefined;
    }
    return parsed.data;
  };
  const id = field('id');
  const personId = field('personId');
  const organizationId = field('organizationId');
  let episode: EpisodeLink | undefined;
  // No episode id, only the person (an HL7 v2 SIU without PV1-19): with a store, the person's open episode there.
  const openOne = id === undefined && ref.id === undefined && personId !== undefined && open ? open(personId) : undefined;
  if (id === undefined && openOne === undefined) {
    if (ref.id === undefined && personId !== undefined && open)
      issues.push(recordIssue('error', 'not-found', `${path}.episode.id`, awaitingOpenEpisode(personId), 'canonical'));
    else if (ref.id === undefined)
      issues.push(
        recordIssue(
          'error',
          'required',
          `${path}.episode.id`,
          `A ${kind} on its own needs the id of its episode (episode.id)${open ? '' : personId !== undefined ? ': without a store, the open episode of its person cannot be looked up' : ''}`,
          'canonical',
        ),
      );
  } else {
    const inRun = id !== undefined ? episodes.get(id) : undefined;
    const known = inRun ?? openOne ?? (id !== undefined ? stored?.(id) : undefined);
    // Here the record named the episode, or its person's open one was found.
    const named = known?.id ?? id ?? '';
    if (known) {
      for (const [name, value] of [
        ['personId', personId],
        ['organizationId', organizationId],
      ] as const) {
        const has = known[name];
        if (has === undefined) {
          // A stored episode whose person or organization the caller cannot read, and the record does not name (or names another).
          issues.push(
            value === undefined
              ? recordIssue(
                  'error',
                  'required',
                  `${path}.episode.${name}`,
                  `Episode ${named} is stored, but its ${name === 'personId' ? 'person' : 'organization'} is not (or not readable here): give episode.${name}`,
                  'canonical',
                )
              : recordIssue('error', 'conflict', `${path}.episode.${name}`, `Episode ${named} in the store has another ${name} than "${value}"`, 'canonical'),
          );
        } else if (value !== undefined && value !== has) {
          issues.push(
            recordIssue(
              'error',
              'conflict',
              `${path}.episode.${name}`,
              `Episode ${named} has ${name} "${has}" ${inRun ? 'in this run' : 'in the store'}, not "${value}"`,
              'canonical',
            ),
          );
        }
      }
      if (known.personId !== undefined && known.organizationId !== undefined)
        episode = { ...known, personId: known.personId, organizationId: known.organizationId };
    } else if (stored && (personId === undefined || organizationId === undefined)) {
      issues.push(recordIssue('error', 'not-found', `${path}.episode.id`, awaitingReason('episode', named), 'canonical'));
    } else {
      for (const [name, value] of [
        ['personId', personId],
        ['organizationId', organizationId],
      ] as const) {
        if (value === undefined && ref[name] === undefined) {
          issues.push(
            recordIssue('error', 'required', `${path}.episode.${name}`, `Episode ${named} is not in this run: give episode.${name} too`, 'canonical'),
          );
        }
      }
      if (personId !== undefined && organizationId !== undefined) {
        episode = { id: named, personId, organizationId };
        refer('person', personId, `${path}.episode.personId`);
        refer('organization', organizationId, `${path}.episode.organizationId`);
      }
    }
  }
  return episode ? { episode, issues } : { issues };
}
