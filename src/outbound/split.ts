/**
 * Splits a translation's output into a series of FHIR transaction Bundles
 * (https://hl7.org/fhir/R4/http.html#transaction) that any server takes: each under an entry
 * count and a byte limit, in an order that keeps references resolvable. A Bundle never refers to
 * a resource that only a later Bundle writes: the Bundles follow a topological order of the
 * reference graph (dependencies first), and resources in a reference cycle stay in one Bundle.
 *
 * Every entry is a PUT to the resource's deterministic id (src/fhir/bundle.ts), and every
 * reference to a resource of the output is the relative `Type/id` (a `urn:uuid:` reference of a
 * canonical file is rewritten to it): a `urn:uuid` resolves only inside its own Bundle, while
 * `Type/id` names the same resource in this Bundle, in an earlier one already stored, and on a
 * rerun. PUT rather than POST because a POST creates a new resource (with a server-assigned id)
 * each time: a retried or resent Bundle would duplicate, and later Bundles could not name it.
 *
 * Memory holds per resource its key, where its entry sits in a spool file and the keys it refers
 * to, never the resources: a 50,000-row export is split in flat memory.
 *
 * A record referred to but not in the output (no `Type/id` to PUT) travels as a placeholder
 * (src/outbound/placeholders.ts): every Bundle whose entries refer to it carries a copy, counted
 * in its limits, and those references point at the copy's `urn:uuid`.
 *
 * Why one file of over 400 lines: the planner and the writer share the per-node arrays of one
 * class; splitting them would pass those arrays between files.
 */
import { closeSync, createWriteStream, mkdirSync, openSync, readdirSync, readSync, unlinkSync, writeFileSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { putEntry } from '../fhir/bundle';
import { pointAtPlaceholders, SeriesPlaceholders, type ReferenceTargets } from './placeholders';

/** Both hold for every Bundle. */
export interface BundleLimits {
  /** Entries per Bundle. */
  entries: number;
  /** Bytes of a Bundle file (UTF-8 JSON, as sent). */
  bytes: number;
  /**
   * JSON values of a Bundle (every object, array and primitive, as src/validation/budget.ts
   * counts them): servers bound the work of one request by them, not only by bytes.
   */
  values: number;
}

/**
 * Defaults: 12 MiB stays clear of this server's 16 MiB request body limit (MAX_BODY_BYTES, with
 * room for a proxy's headers or a re-encoding); 150,000 values stays under the 200,000 it reads
 * in one body (VALIDATION_MAX_ELEMENTS; translated resources average 27 bytes a value, so 12 MiB
 * alone would make ~470,000); and 1,000 entries keeps one transaction short enough for servers
 * that hold a database transaction open for it.
 */
export const DEFAULT_BUNDLE_LIMITS: BundleLimits = { entries: 1000, bytes: 12 * 1024 * 1024, values: 150_000 };

/** A resource, or a reference cycle, that cannot fit any Bundle under the limits: nothing is written. */
export class BundleSizeError extends Error {}

const HEADER = '{"resourceType":"Bundle","type":"transaction","entry":[\n';
const FOOTER = '\n]}\n';
const SEPARATOR = ',\n';
const OVERHEAD = HEADER.length + FOOTER.length;
/** The Bundle object, its resourceType and type, the entry array. */
const OVERHEAD_VALUES = 4;
/** An entry object, its fullUrl, request object, method and url. */
const ENTRY_VALUES = 5;

/** One planned Bundle: its entries' keys, in order, and the placeholders it carries (src/outbound/placeholders.ts). */
export interface PlannedBundle {
  keys: string[];
  placeholders: Set<string>;
  bytes: number;
  values: number;
}

/** One written Bundle, as the manifest lists it. */
export interface ManifestBundle {
  file: string;
  entries: number;
  bytes: number;
  /** JSON values. */
  values: number;
  sha256: string;
  /** Entries per resource type. */
  resources: Record<string, number>;
}

/** `manifest.json` of an output folder. */
export interface Manifest {
  limits: BundleLimits;
  bundles: ManifestBundle[];
  totals: { bundles: number; entries: number; bytes: number };
  /**
   * References to resources that are in no Bundle (sent before, or never made: a practitioner id
   * of a contact whose staff record was not in the input): they resolve only on a server that has
   * them. Counted, with the first few.
   */
  outsideReferences: { count: number; first: string[] };
  /** Records referred to but not in the output, carried as placeholders (conditional creates) by the Bundles that refer to them. */
  placeholders: number;
}

const REFERENCE_RE = /"reference":"urn:uuid:([^"]+)"/g;
const URN = 'urn:uuid:';

/**
 * Collects resources (the last version of each `Type/id` wins: a transaction may not hold one
 * resource twice), then plans and writes the Bundles. `spoolFile` is a scratch file the caller
 * removes. Every `Type/id` seen (written or referred to) is a node number; per node the arrays
 * hold where its entry sits in the spool, its size and the nodes it refers to.
 */
export class BundleSplitter {
  private readonly spool: WriteStream;
  private readonly nodeOf = new Map<string, number>();
  private readonly keys: string[] = [];
  /** Node of a resource id (ids are UUIDs, unique across types): resolves `urn:uuid:<id>`. */
  private readonly nodeOfId = new Map<string, number>();
  private readonly offset: number[] = [];
  /** Bytes in the spool (-1: referred to, not in the output). */
  private readonly length: number[] = [];
  /** Bytes once its forward `urn:uuid` references are `Type/id`. */
  private readonly bytes: number[] = [];
  /** JSON values of its entry. */
  private readonly values: number[] = [];
  private readonly refs: number[][] = [];
  /** `urn:uuid:<id>` references made before their target was added, per node. */
  private readonly forward = new Map<number, string[]>();
  /** Nodes in the output, in the order first added. */
  private readonly added: number[] = [];
  private spooled = 0;
  private placeholders: SeriesPlaceholders | undefined;

  /** `targets`: the run's ReferenceTargets, to carry placeholders for the records referred to but not in the output. */
  constructor(
    private readonly spoolFile: string,
    readonly limits: BundleLimits = DEFAULT_BUNDLE_LIMITS,
    private readonly targets?: ReferenceTargets,
  ) {
    this.spool = createWriteStream(spoolFile);
  }

  /** Number of distinct resources so far. */
  get size(): number {
    return this.added.length;
  }

  private node(key: string): number {
    let n = this.nodeOf.get(key);
    if (n === undefined) {
      n = this.keys.length;
      this.nodeOf.set(key, n);
      this.keys.push(key);
      this.length.push(-1);
      this.offset.push(0);
      this.bytes.push(0);
      this.values.push(0);
      this.refs.push([]);
    }
    return n;
  }

  /** Adds one resource (its references may be rewritten in place). */
  async add(resource: Resource): Promise<void> {
    this.targets?.observe(resource);
    const node = this.node(`${resource.resourceType}/${resource.id}`);
    this.nodeOfId.set(resource.id as string, node);
    const refs: string[] = [];
    const values = collectReferences(resource, this.keys, this.nodeOfId, refs) + ENTRY_VALUES;
    const json = JSON.stringify(putEntry(resource));
    const length = Buffer.byteLength(json);
    if (this.length[node] < 0) this.added.push(node);
    this.offset[node] = this.spooled;
    this.length[node] = length;
    this.bytes[node] = length;
    this.values[node] = values;
    const targets: number[] = [];
    const forward: string[] = [];
    for (const r of refs) {
      if (r.startsWith(URN)) forward.push(r);
      else targets.push(this.node(r));
    }
    this.refs[node] = targets;
    if (forward.length) this.forward.set(node, forward);
    else this.forward.delete(node);
    this.spooled += length;
    if (!this.spool.write(json)) await once(this.spool, 'drain');
  }

  /** Closes the spool; call once, after the last add. */
  async finish(): Promise<void> {
    this.spool.end();
    await once(this.spool, 'finish');
  }

  /**
   * Orders the resources dependencies first (Tarjan's strongly connected components, which come
   * out in reverse topological order of "refers to") and packs them greedily: a component goes
   * to the current Bundle when it fits, else starts the next. Throws BundleSizeError naming a
   * resource (or cycle) over the limits.
   */
  plan(): PlannedBundle[] {
    this.resolveForwardReferences();
    this.planPlaceholders();
    const bundles: PlannedBundle[] = [];
    const empty = (): PlannedBundle => ({ keys: [], placeholders: new Set(), bytes: OVERHEAD, values: OVERHEAD_VALUES });
    let current = empty();
    for (const component of this.components()) {
      const needed = this.placeholdersOf(component);
      const all = this.placeholders?.cost(needed, SEPARATOR.length) ?? { entries: 0, bytes: 0, values: 0 };
      const bytes = component.reduce((n, k) => n + this.bytes[k] + SEPARATOR.length, 0) + all.bytes;
      const values = component.reduce((n, k) => n + this.values[k], 0) + all.values;
      const alone = OVERHEAD + bytes - SEPARATOR.length;
      const entries = component.length + all.entries;
      if (entries > this.limits.entries || alone > this.limits.bytes || OVERHEAD_VALUES + values > this.limits.values) {
        const keys = component.map((k) => this.keys[k]);
        const names =
          keys.length === 1 ? keys[0] : `the reference cycle of ${keys.length} resources ${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ', ...' : ''}`;
        throw new BundleSizeError(
          `${names} ${keys.length === 1 ? 'is' : 'are'} ${alone} bytes and ${OVERHEAD_VALUES + values} JSON values as a Bundle, over the limit of ${this.limits.bytes} bytes, ${this.limits.values} values or ${this.limits.entries} entries: raise --bundle-bytes, --bundle-values or --bundle-size, the target server permitting`,
        );
      }
      // Placeholders the current Bundle already carries are not carried twice.
      const extra = [...needed].filter((k) => !current.placeholders.has(k));
      const more = this.placeholders?.cost(extra, SEPARATOR.length) ?? { entries: 0, bytes: 0, values: 0 };
      const added = { entries: component.length + more.entries, bytes: bytes - all.bytes + more.bytes, values: values - all.values + more.values };
      const size = current.keys.length === 0 ? alone : current.bytes + added.bytes;
      if (
        current.keys.length > 0 &&
        (current.keys.length + current.placeholders.size + added.entries > this.limits.entries ||
          size > this.limits.bytes ||
          current.values + added.values > this.limits.values)
      ) {
        bundles.push(current);
        current = empty();
      }
      const first = current.keys.length === 0;
      current.bytes = first ? alone : current.bytes + added.bytes;
      current.values += first ? values : added.values;
      for (const k of first ? needed : extra) current.placeholders.add(k);
      for (const k of component) current.keys.push(this.keys[k]);
    }
    if (current.keys.length > 0) bundles.push(current);
    return bundles;
  }

  /**
   * Writes `0001.json`, `0002.json` ... and `manifest.json` into `dir` (made if missing). The
   * numbered files of an earlier run there are removed first, so the folder holds this run only.
   */
  write(dir: string, plan: PlannedBundle[]): Manifest {
    mkdirSync(dir, { recursive: true });
    for (const f of readdirSync(dir)) if (/^\d{4,}\.json$/.test(f)) unlinkSync(join(dir, f));
    const width = Math.max(4, String(plan.length).length);
    const fd = openSync(this.spoolFile, 'r');
    const manifest: Manifest = {
      limits: this.limits,
      bundles: [],
      totals: { bundles: plan.length, entries: 0, bytes: 0 },
      outsideReferences: this.outsideReferences(),
      placeholders: this.placeholders?.size ?? 0,
    };
    try {
      plan.forEach((bundle, n) => {
        const resources: Record<string, number> = {};
        const count = (key: string) => {
          const type = key.slice(0, key.indexOf('/'));
          resources[type] = (resources[type] ?? 0) + 1;
        };
        const parts = bundle.keys.map((key) => {
          const node = this.nodeOf.get(key)!;
          count(key);
          const buf = Buffer.allocUnsafe(this.length[node]);
          readSync(fd, buf, 0, buf.length, this.offset[node]);
          const json = buf.toString('utf8');
          return pointAtPlaceholders(this.forward.has(node) ? this.rewriteForward(json) : json, bundle.placeholders);
        });
        for (const key of bundle.placeholders) {
          count(key);
          parts.push(this.placeholders!.json(key));
        }
        const text = HEADER + parts.join(SEPARATOR) + FOOTER;
        const file = `${String(n + 1).padStart(width, '0')}.json`;
        writeFileSync(join(dir, file), text);
        const bytes = Buffer.byteLength(text);
        manifest.bundles.push({
          file,
          entries: parts.length,
          bytes,
          values: bundle.values,
          sha256: createHash('sha256').update(text).digest('hex'),
          resources,
        });
        manifest.totals.entries += parts.length;
        manifest.totals.bytes += bytes;
      });
    } finally {
      closeSync(fd);
    }
    writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    return manifest;
  }

  /** A `urn:uuid:<id>` reference made before its target was added: now an edge, and its size known. */
  private resolveForwardReferences(): void {
    for (const [node, urns] of this.forward) {
      const keep: string[] = [];
      for (const urn of urns) {
        const target = this.nodeOfId.get(urn.slice(URN.length));
        if (target === undefined) {
          keep.push(urn);
          continue;
        }
        const key = this.keys[target];
        this.refs[node].push(target);
        this.bytes[node] += key.length - urn.length;
      }
      this.forward.set(node, keep);
    }
  }

  private rewriteForward(json: string): string {
    return json.replace(REFERENCE_RE, (all, id: string) => {
      const target = this.nodeOfId.get(id);
      return target === undefined ? all : `"reference":"${this.keys[target]}"`;
    });
  }

  /** Placeholders for the records referred to but not in the output (none without ReferenceTargets). */
  private planPlaceholders(): void {
    if (!this.targets) return;
    const outside = this.keys.filter((_, n) => this.length[n] < 0);
    const present = (key: string) => {
      const n = this.nodeOf.get(key);
      return n !== undefined && this.length[n] >= 0;
    };
    // An entry's values as `add` counts them, and the request's ifNoneExist.
    this.placeholders = new SeriesPlaceholders(
      this.targets.close(outside, present),
      (e) => collectReferences(e.resource, [], new Map(), []) + ENTRY_VALUES + 1,
    );
  }

  /** The placeholders the resources of a component refer to (with those they need in turn). */
  private placeholdersOf(component: number[]): Set<string> {
    const needed = new Set<string>();
    if (!this.placeholders?.size) return needed;
    for (const n of component) for (const t of this.refs[n]) if (this.length[t] < 0) this.placeholders.need(this.keys[t], needed);
    return needed;
  }

  /** References to resources that are not in the output, nor carried as placeholders. */
  private outsideReferences(): Manifest['outsideReferences'] {
    const outside = this.keys.filter((k, n) => this.length[n] < 0 && !this.placeholders?.has(k));
    for (const urns of this.forward.values()) outside.push(...urns);
    return { count: outside.length, first: outside.slice(0, 20) };
  }

  /** Strongly connected components, each after every component it refers to (iterative Tarjan). */
  private components(): number[][] {
    const count = this.keys.length;
    const index = new Int32Array(count).fill(-1);
    const low = new Int32Array(count);
    const onStack = new Uint8Array(count);
    const stack: number[] = [];
    const out: number[][] = [];
    let next = 0;
    const visit = (n: number): void => {
      index[n] = low[n] = next++;
      stack.push(n);
      onStack[n] = 1;
    };
    for (const root of this.added) {
      if (index[root] >= 0) continue;
      const work: number[] = [root];
      const at: number[] = [0];
      visit(root);
      while (work.length > 0) {
        const top = work.length - 1;
        const node = work[top];
        const refs = this.refs[node];
        if (at[top] < refs.length) {
          const to = refs[at[top]++];
          if (to === node || this.length[to] < 0) continue;
          if (index[to] < 0) {
            visit(to);
            work.push(to);
            at.push(0);
          } else if (onStack[to]) {
            low[node] = Math.min(low[node], index[to]);
          }
          continue;
        }
        work.pop();
        at.pop();
        if (work.length > 0) {
          const parent = work[work.length - 1];
          low[parent] = Math.min(low[parent], low[node]);
        }
        if (low[node] === index[node]) {
          const component: number[] = [];
          let k: number;
          do {
            k = stack.pop()!;
            onStack[k] = 0;
            component.push(k);
          } while (k !== node);
          out.push(component.reverse());
        }
      }
    }
    return out;
  }
}

/**
 * Collects the references of a resource as keys, and counts its JSON values; a `urn:uuid:<id>`
 * naming a resource already added becomes `Type/id` in place (a canonical file's references to
 * earlier records).
 */
function collectReferences(value: unknown, keys: readonly string[], nodeOfId: ReadonlyMap<string, number>, refs: string[]): number {
  let values = 1;
  if (Array.isArray(value)) {
    for (const v of value) values += collectReferences(v, keys, nodeOfId, refs);
  } else if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    for (const key in obj) {
      const v = obj[key];
      if (key === 'reference' && typeof v === 'string') {
        values++;
        if (v.startsWith(URN)) {
          const node = nodeOfId.get(v.slice(URN.length));
          if (node !== undefined) obj[key] = keys[node];
        }
        if (!v.startsWith('#')) refs.push(referenceKey(obj[key] as string));
      } else if (v !== null && typeof v === 'object') {
        values += collectReferences(v, keys, nodeOfId, refs);
      } else if (v !== undefined) {
        values++;
      }
    }
  }
  return values;
}

/** `Type/id` of a relative or absolute reference (a `_history` suffix dropped); other text as it is. */
function referenceKey(ref: string): string {
  if (ref.startsWith('urn:')) return ref;
  const m = /(?:^|\/)([A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(ref);
  return m ? m[1] : ref;
}
