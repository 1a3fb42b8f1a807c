/**
 * Episode splitting: a canonical episode carries its eligibility reviews, contacts and recovery
 * plan, but each of them is a record of its own (one bad contact rejects that contact, not the
 * episode). This cuts an episode into its header and its child records, in the order they are
 * translated and counted (header, reviews, contacts, plan), and hands each the issues found before
 * the canonical stage (an outside source's mapping) that fall inside it.
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { EPISODE_CHILDREN, type RecordKind } from '../domain/model';
import { recordIssue } from './issues';
import type { ChildKind } from './record-handlers';

/** One child record of an episode. */
export interface EpisodeChild {
  kind: ChildKind;
  path: string;
  raw: unknown;
  /** Issues found before the canonical stage inside this record: each rejects it. */
  pre: OperationOutcomeIssue[];
}

/** A list of children that is not a list: none of its records was read. */
export interface NotAList {
  kind: RecordKind;
  path: string;
  raw: unknown;
  issue: OperationOutcomeIssue;
}

export interface EpisodeParts {
  /** The episode without its children (the value itself when it is not an object, for the schema to reject). */
  header: unknown;
  /** Issues found before the canonical stage in the header (not inside a child). */
  headerPre: OperationOutcomeIssue[];
  /** The children in translation order; a child list that is not an array in its place. */
  children: (EpisodeChild | NotAList)[];
}

const LIST_KIND = { eligibilityReviews: 'eligibility-review', contacts: 'contact' } as const;

/** Splits the episode at `path`; `pre`: issues found before the canonical stage, by path. */
export function splitEpisode(path: string, raw: unknown, pre: OperationOutcomeIssue[] = []): EpisodeParts {
  const inChild = (i: OperationOutcomeIssue): boolean =>
    EPISODE_CHILDREN.some((k) => (k === 'recoveryPlan' ? under(`${path}.${k}`)(i) : (i.expression?.[0] ?? '').startsWith(`${path}.${k}[`)));
  const headerPre = pre.filter((i) => !inChild(i));
  const isObject = raw !== null && typeof raw === 'object' && !Array.isArray(raw);
  const header: Record<string, unknown> = isObject ? { ...raw } : {};
  const lists = Object.fromEntries(EPISODE_CHILDREN.map((k) => [k, header[k]]));
  EPISODE_CHILDREN.forEach((k) => delete header[k]);
  const children: (EpisodeChild | NotAList)[] = [];
  const child = (kind: ChildKind, childPath: string, childRaw: unknown): EpisodeChild => ({
    kind,
    path: childPath,
    raw: childRaw,
    pre: pre.filter(under(childPath)),
  });
  for (const key of ['eligibilityReviews', 'contacts'] as const) {
    const v = lists[key];
    if (v === undefined) continue;
    if (!Array.isArray(v)) {
      const issue = recordIssue(
        'error',
        'structure',
        `${path}.${key}`,
        `Expected an array of records, got ${v === null ? 'null' : typeof v}: none of them was read`,
        'canonical',
      );
      children.push({ kind: LIST_KIND[key], path: `${path}.${key}`, raw: v, issue });
      continue;
    }
    v.forEach((r: unknown, i) => children.push(child(LIST_KIND[key], `${path}.${key}[${i}]`, r)));
  }
  const plan = lists.recoveryPlan;
  if (plan !== undefined) children.push(child('recovery-plan', `${path}.recoveryPlan`, plan));
  return { header: isObject ? header : raw, headerPre, children };
}

/** Whether an issue is at `base` or inside it. */
function under(base: string) {
  return (i: OperationOutcomeIssue): boolean => {
    const e = i.expression?.[0] ?? '';
    return e === base || e.startsWith(`${base}.`) || e.startsWith(`${base}[`);
  };
}
