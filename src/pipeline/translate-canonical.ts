/**
 * Runs a canonical file through the pipeline: from a parsed document (HTTP ingest) or from a
 * stream of its records (the CLI, any file size). Accepted resources go to a sink as they are
 * made; the report lists every record not accepted, and warnings, with their JSON paths.
 */
import type { OperationOutcome, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { COLLECTIONS, type CollectionName } from '../domain/model';
import type { TopLevelEvent } from '../inbound/json-records';
import { CanonicalRun, type PipelineDeps, type RecordResult, type RunSummary } from './canonical';
import { recordIssue } from './issues';
import { RECORD_HANDLERS } from './record-handlers';

export interface TranslateReport {
  summary: RunSummary;
  /** Every issue: rejected records' errors, and warnings on accepted ones. */
  outcome: OperationOutcome;
  /** A problem that stopped reading the file (a JSON syntax error); records before it were translated. */
  fatal?: string;
}

const isCollection = (k: string): k is CollectionName => (COLLECTIONS as readonly string[]).includes(k);

/**
 * The order collections of a parsed document are processed in: organizations first, and episodes
 * before people and recovery capital, so a person with an episode at a 42 CFR Part 2 program is
 * known as such before their Patient and responses are made (and labelled).
 */
const PROCESSING_ORDER: readonly CollectionName[] = ['organizations', 'practitioners', 'episodes', 'people', 'recoveryCapital', 'supervisorAssessments'];

/** The events of an already parsed document, collections in PROCESSING_ORDER. */
export function documentEvents(doc: unknown): TopLevelEvent[] {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return [
      {
        type: 'error',
        message: `A canonical file is a JSON object with "source" and record arrays, got ${Array.isArray(doc) ? 'an array' : doc === null ? 'null' : typeof doc}`,
      },
    ];
  }
  const obj = doc as Record<string, unknown>;
  const events: TopLevelEvent[] = [];
  if ('source' in obj) events.push({ type: 'property', key: 'source', value: obj.source });
  for (const key of Object.keys(obj)) {
    if (key !== 'source' && !isCollection(key)) events.push({ type: 'property', key, value: obj[key] });
  }
  for (const key of PROCESSING_ORDER) {
    const v = obj[key];
    if (v === undefined) continue;
    if (!Array.isArray(v)) {
      events.push({ type: 'property', key, value: v });
      continue;
    }
    v.forEach((value, index) => events.push({ type: 'item', collection: key, index, value, line: 0 }));
  }
  return events;
}

/** Translates the events of one canonical file; `sink` receives each accepted record's resources. */
export async function translateCanonical(
  events: AsyncIterable<TopLevelEvent> | Iterable<TopLevelEvent>,
  deps: PipelineDeps,
  sink: (resources: Resource[], result: RecordResult) => void | Promise<void>,
): Promise<TranslateReport> {
  const run = new CanonicalRun(deps);
  const issues: OperationOutcomeIssue[] = [];
  const pending: { collection: CollectionName; index: number; value: unknown }[] = [];
  const reportedCollections = new Set<string>();
  let fatal: string | undefined;

  const handle = async (collection: CollectionName, index: number, value: unknown) => {
    // With a store, what the record refers to outside the file is looked up first (stored-context.ts).
    if (run.looksUp) await run.prepare(RECORD_HANDLERS[collection].kind, value);
    for (const result of run.translate(collection, index, value)) {
      issues.push(...result.issues);
      if (result.accepted) await sink(result.resources, result);
    }
  };

  const seenKeys = new Set<string>();
  for await (const event of events) {
    const key = event.type === 'property' ? event.key : event.type === 'item' && event.index === 0 ? event.collection : undefined;
    if (key !== undefined) {
      if (seenKeys.has(key)) {
        fatal = `"${key}" appears twice at the top level`;
        issues.push(
          recordIssue(
            'fatal',
            'structure',
            `$.${key}`,
            `${fatal}: a canonical file has each property once; the records before its second occurrence were translated, the rest of the file was not read`,
            'parse',
          ),
        );
        break;
      }
      seenKeys.add(key);
    }
    if (event.type === 'error') {
      fatal = event.message;
      issues.push(
        recordIssue('fatal', 'structure', '$', `${event.message}; the records before it were translated, the rest of the file was not read`, 'parse'),
      );
      break;
    }
    if (event.type === 'property') {
      if (event.key === 'source') {
        issues.push(...run.setSource(event.value));
        if (run.hasSource) {
          for (const p of pending.splice(0)) await handle(p.collection, p.index, p.value);
        }
      } else if (isCollection(event.key)) {
        issues.push(
          recordIssue(
            'error',
            'structure',
            `$.${event.key}`,
            `Expected an array of records, got ${event.value === null ? 'null' : typeof event.value}`,
            'canonical',
          ),
        );
      } else {
        issues.push(
          recordIssue(
            'error',
            'structure',
            `$.${event.key}`,
            `Unknown property "${event.key}": a canonical file has source, ${COLLECTIONS.join(', ')}`,
            'canonical',
          ),
        );
      }
      continue;
    }
    if (!isCollection(event.collection)) {
      if (!reportedCollections.has(event.collection)) {
        reportedCollections.add(event.collection);
        issues.push(
          recordIssue(
            'error',
            'structure',
            `$.${event.collection}`,
            `Unknown collection "${event.collection}": its records were not read (a canonical file has ${COLLECTIONS.join(', ')})`,
            'canonical',
          ),
        );
      }
      continue;
    }
    if (!run.hasSource && pending.length < 1_000_000) {
      // Records before "source": wait for it (put "source" first to keep memory flat).
      pending.push({ collection: event.collection, index: event.index, value: event.value });
      continue;
    }
    await handle(event.collection, event.index, event.value);
  }
  if (!run.hasSource && !fatal) {
    if (!issues.some((i) => i.expression?.[0] === '$.source')) {
      issues.push(
        recordIssue('error', 'required', '$.source', 'Missing "source": the URI of the source system, which makes the FHIR ids and identifiers', 'canonical'),
      );
    }
  }
  for (const p of pending.splice(0)) await handle(p.collection, p.index, p.value);
  const finished = run.finish();
  issues.push(...finished.issues);
  const outcome: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: issues.length
      ? issues
      : [
          {
            severity: 'information',
            code: 'informational',
            details: { text: `All ${finished.summary.read} records accepted (${finished.summary.resources} resources)` },
          },
        ],
  };
  return { summary: finished.summary, outcome, ...(fatal ? { fatal } : {}) };
}
