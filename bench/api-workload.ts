/**
 * The data the API benchmarks load (`npm run bench:api`, its `--grow` mode, `npm run bench:soak`):
 * generated peer support resources (bench/workload.ts: Patients, EpisodeOfCare, CarePlans, Goals,
 * Encounters, ChargeItems, QuestionnaireResponses, Observations, all valid against the profiles)
 * as `POST /fhir` transaction Bundles of PUT entries, and the loader that posts them a few at a time.
 *
 * `buildWorkload` makes the whole set in memory (bench:api, the soak); `ResourceStream` makes it
 * a person at a time, in chunks, for stores of a million resources that do not fit in memory as
 * serialised Bundles (bench:api --grow).
 */
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { PROJECT_ROOT } from '../src/validation';
import { generateWorkload } from './workload';

/** The generator makes about this many resources per person. */
const PER_PERSON = 18;
const PACKAGE_DIR = join(PROJECT_ROOT, 'profiles', 'package');

/** A serialised transaction Bundle and its entry count. */
export interface TxBundle {
  body: string;
  count: number;
}

/** What the measurements need to know about the loaded resources. */
export class WorkloadIndex {
  readonly byType: Record<string, number> = {};
  readonly encounterIds: string[] = [];
  readonly patientIds: string[] = [];
  private readonly orgs = new Set<string>();
  private min = Infinity;
  private max = -Infinity;
  count = 0;

  add(r: Resource): void {
    this.count++;
    this.byType[r.resourceType] = (this.byType[r.resourceType] ?? 0) + 1;
    if (r.resourceType === 'Patient') this.patientIds.push(r.id as string);
    const owner = r as { managingOrganization?: { reference?: string }; serviceProvider?: { reference?: string } };
    const org = /^Organization\/(.+)$/.exec(owner.managingOrganization?.reference ?? owner.serviceProvider?.reference ?? '')?.[1];
    if (org) this.orgs.add(org);
    if (r.resourceType === 'Encounter') {
      this.encounterIds.push(r.id as string);
      const t = Date.parse(r.period?.start ?? '');
      if (Number.isFinite(t)) [this.min, this.max] = [Math.min(this.min, t), Math.max(this.max, t)];
    }
  }

  /** Organizations named by the workload (EpisodeOfCare, Encounter): the tenants a bench client is registered for. */
  get organizations(): string[] {
    return [...this.orgs];
  }

  /** Encounter start dates, ms since the epoch: [min, max]. */
  get dates(): [number, number] {
    return [this.min, this.max];
  }
}

export interface Workload {
  /** Transaction Bundles, serialised, with their entry counts. */
  bundles: TxBundle[];
  /** The resources themselves, in load order. */
  resources: Resource[];
  byType: Record<string, number>;
  encounterIds: string[];
  patientIds: string[];
  organizations: string[];
  dates: [number, number];
}

/** One transaction Bundle of `PUT Type/id` entries. */
export function transactionBundle(resources: Resource[]): TxBundle {
  const entry = resources.map((r) => ({ resource: r, request: { method: 'PUT', url: `${r.resourceType}/${r.id}` } }));
  return { body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }), count: resources.length };
}

/** `resources` generated resources (seeded), in Bundles of `batch` entries. */
export function buildWorkload(args: { resources: number; seed: number; batch: number }): Workload {
  const items = generateWorkload(args.seed, Math.ceil(args.resources / PER_PERSON) + 2, PACKAGE_DIR);
  const resources: Resource[] = items.slice(0, args.resources).map((i) => i.resource);
  if (resources.length < args.resources) throw new Error(`The generator made only ${resources.length} resources`);
  const keys = new Set(resources.map((r) => `${r.resourceType}/${r.id}`));
  if (keys.size !== resources.length) throw new Error('The generator repeated an id');
  const index = new WorkloadIndex();
  for (const r of resources) index.add(r);
  const bundles: TxBundle[] = [];
  for (let i = 0; i < resources.length; i += args.batch) bundles.push(transactionBundle(resources.slice(i, i + args.batch)));
  const { byType, encounterIds, patientIds, organizations, dates } = index;
  return { bundles, resources, byType, encounterIds, patientIds, organizations, dates };
}

/**
 * Generated resources without end, made `chunkPersons` people at a time (chunk k with seed + k),
 * so memory holds one chunk, not the store. Ids are random hex, so over a million resources two
 * may meet: a repeat is skipped (the stream keeps every key it gave), never sent as an update.
 */
export class ResourceStream {
  readonly index = new WorkloadIndex();
  private readonly seen = new Set<string>();
  private buffer: Resource[] = [];
  private at = 0;
  private chunk = 0;
  /** Resources skipped because their type and id repeated one already given. */
  repeats = 0;

  constructor(
    private readonly seed: number,
    private readonly chunkPersons = 1000,
  ) {}

  /** The next `n` resources. */
  take(n: number): Resource[] {
    const out: Resource[] = [];
    while (out.length < n) {
      if (this.at >= this.buffer.length) {
        this.buffer = generateWorkload(this.seed + this.chunk++, this.chunkPersons, PACKAGE_DIR).map((i) => i.resource);
        this.at = 0;
      }
      const r = this.buffer[this.at++];
      const key = `${r.resourceType}/${r.id}`;
      if (this.seen.has(key)) {
        this.repeats++;
        continue;
      }
      this.seen.add(key);
      this.index.add(r);
      out.push(r);
    }
    return out;
  }

  /** Transaction Bundles of `batch` entries holding the next `total` resources, made as they are asked for. */
  *bundles(total: number, batch: number): Generator<TxBundle> {
    for (let left = total; left > 0; left -= batch) yield transactionBundle(this.take(Math.min(batch, left)));
  }
}

export interface IngestResult {
  resources: number;
  seconds: number;
  rps: number;
  failures: number;
  firstError?: string;
}

/** Posts the Bundles to `POST /fhir`, `concurrency` in flight: resources stored per second. */
export async function ingest(base: string, bundles: Iterable<TxBundle>, concurrency: number): Promise<IngestResult> {
  const source = bundles[Symbol.iterator]();
  let resources = 0;
  let failures = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    for (let b = source.next(); !b.done; b = source.next()) {
      const res = await fetch(`${base}/fhir`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: b.value.body });
      const text = await res.text();
      if (res.status === 200) resources += b.value.count;
      else {
        failures++;
        firstError ??= `${res.status} ${text.slice(0, 300)}`;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  return { resources, seconds, rps: resources / seconds, failures, firstError };
}
