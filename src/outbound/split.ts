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
 */
import { closeSync, createWriteStream, mkdirSync, openSync, readSync, writeFileSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { putEntry } from '../fhir/bundle';

/** Both hold for every Bundle. */
export interface BundleLimits {
  /** Entries per Bundle. */
  entries: number;
  /** Bytes of a Bundle file (UTF-8 JSON, as sent). */
  bytes: number;
}

/**
 * Defaults: 12 MiB stays clear of this server's 16 MiB request body limit (MAX_BODY_BYTES, with
 * room for a proxy's headers or a re-encoding), and 1,000 entries keeps one transaction short
 * enough for servers that hold a database transaction open for it.
 */
export const DEFAULT_BUNDLE_LIMITS: BundleLimits = { entries: 1000, bytes: 12 * 1024 * 1024 };

/** A resource, or a reference cycle, that cannot fit any Bundle under the limits: nothing is written. */
export class BundleSizeError extends Error {}

const HEADER = '{"resourceType":"Bundle","type":"transaction","entry":[\n';
const FOOTER = '\n]}\n';
const SEPARATOR = ',\n';
const OVERHEAD = HEADER.length + FOOTER.length;

interface Spooled {
  offset: number;
  /** Bytes in the spool. */
  length: number;
  /** Bytes once its forward `urn:uuid` references are `Type/id`. */
  bytes: number;
  /** Keys (`Type/id`) and forward `urn:uuid:<id>` references it makes. */
  refs: string[];
}

/** One planned Bundle: its entries' keys, in order. */
export interface PlannedBundle {
  keys: string[];
  bytes: number;
}

/** One written Bundle, as the manifest lists it. */
export interface ManifestBundle {
  file: string;
  entries: number;
  bytes: number;
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
}

const REFERENCE_RE = /"reference":"urn:uuid:([^"]+)"/g;

/**
 * Collects resources (the last version of each `Type/id` wins: a transaction may not hold one
 * resource twice), then plans and writes the Bundles. `spoolFile` is a scratch file the caller
 * removes.
 */
export class BundleSplitter {
  private readonly spool: WriteStream;
  private readonly entries = new Map<string, Spooled>();
  private readonly typeOfId = new Map<string, string>();
  private offset = 0;

  constructor(
    private readonly spoolFile: string,
    readonly limits: BundleLimits = DEFAULT_BUNDLE_LIMITS,
  ) {
    this.spool = createWriteStream(spoolFile);
  }

  /** Number of distinct resources so far. */
  get size(): number {
    return this.entries.size;
  }

  /** Adds one resource (its references may be rewritten in place). */
  async add(resource: Resource): Promise<void> {
    const key = `${resource.resourceType}/${resource.id}`;
    this.typeOfId.set(resource.id as string, resource.resourceType);
    const refs: string[] = [];
    collectReferences(resource, this.typeOfId, refs);
    const json = JSON.stringify(putEntry(resource));
    const length = Buffer.byteLength(json);
    this.entries.delete(key);
    this.entries.set(key, { offset: this.offset, length, bytes: length, refs });
    this.offset += length;
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
    const bundles: PlannedBundle[] = [];
    let current: PlannedBundle = { keys: [], bytes: OVERHEAD };
    for (const component of this.components()) {
      const bytes = component.reduce((n, k) => n + this.entries.get(k)!.bytes + SEPARATOR.length, 0);
      if (component.length > this.limits.entries || OVERHEAD + bytes - SEPARATOR.length > this.limits.bytes) {
        const names = component.length === 1 ? component[0] : `the reference cycle of ${component.length} resources ${component.slice(0, 5).join(', ')}${component.length > 5 ? ', ...' : ''}`;
        throw new BundleSizeError(
          `${names} ${component.length === 1 ? 'is' : 'are'} ${OVERHEAD + bytes - SEPARATOR.length} bytes as a Bundle, over the limit of ${this.limits.bytes} bytes${component.length > this.limits.entries ? ` (or ${this.limits.entries} entries)` : ''}: raise --bundle-bytes (or --bundle-size), the target server permitting`,
        );
      }
      const size = current.keys.length === 0 ? current.bytes + bytes - SEPARATOR.length : current.bytes + bytes;
      if (current.keys.length > 0 && (current.keys.length + component.length > this.limits.entries || size > this.limits.bytes)) {
        bundles.push(current);
        current = { keys: [], bytes: OVERHEAD };
      }
      current.bytes += current.keys.length === 0 ? bytes - SEPARATOR.length : bytes;
      current.keys.push(...component);
    }
    if (current.keys.length > 0) bundles.push(current);
    return bundles;
  }

  /** Writes `0001.json`, `0002.json` ... and `manifest.json` into `dir` (made if missing). */
  write(dir: string, plan: PlannedBundle[]): Manifest {
    mkdirSync(dir, { recursive: true });
    const width = Math.max(4, String(plan.length).length);
    const fd = openSync(this.spoolFile, 'r');
    const manifest: Manifest = { limits: this.limits, bundles: [], totals: { bundles: plan.length, entries: 0, bytes: 0 }, outsideReferences: this.outsideReferences() };
    try {
      plan.forEach((bundle, n) => {
        const resources: Record<string, number> = {};
        const parts = bundle.keys.map((key) => {
          const e = this.entries.get(key)!;
          const type = key.slice(0, key.indexOf('/'));
          resources[type] = (resources[type] ?? 0) + 1;
          const buf = Buffer.allocUnsafe(e.length);
          readSync(fd, buf, 0, e.length, e.offset);
          const json = buf.toString('utf8');
          return e.bytes === e.length && !json.includes('"reference":"urn:uuid:') ? json : this.rewriteForward(json);
        });
        const text = HEADER + parts.join(SEPARATOR) + FOOTER;
        const file = `${String(n + 1).padStart(width, '0')}.json`;
        writeFileSync(join(dir, file), text);
        const bytes = Buffer.byteLength(text);
        manifest.bundles.push({ file, entries: bundle.keys.length, bytes, sha256: createHash('sha256').update(text).digest('hex'), resources });
        manifest.totals.entries += bundle.keys.length;
        manifest.totals.bytes += bytes;
      });
    } finally {
      closeSync(fd);
    }
    writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    return manifest;
  }

  /** A `urn:uuid:<id>` reference made before its target was added: now `Type/id`, and its size is known. */
  private resolveForwardReferences(): void {
    for (const e of this.entries.values()) {
      e.refs = e.refs.map((r) => {
        if (!r.startsWith('urn:uuid:')) return r;
        const id = r.slice(9);
        const type = this.typeOfId.get(id);
        if (!type) return r;
        e.bytes += type.length + 1 - 9;
        return `${type}/${id}`;
      });
    }
  }

  private rewriteForward(json: string): string {
    return json.replace(REFERENCE_RE, (all, id: string) => {
      const type = this.typeOfId.get(id);
      return type ? `"reference":"${type}/${id}"` : all;
    });
  }

  /** References to resources that are not in the output. */
  private outsideReferences(): Manifest['outsideReferences'] {
    const seen = new Set<string>();
    for (const e of this.entries.values()) {
      for (const r of e.refs) if (!this.entries.has(r)) seen.add(r);
    }
    return { count: seen.size, first: [...seen].slice(0, 20) };
  }

  /** Strongly connected components, each after every component it refers to (iterative Tarjan). */
  private components(): string[][] {
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const onStack = new Set<string>();
    const stack: string[] = [];
    const out: string[][] = [];
    let next = 0;
    for (const root of this.entries.keys()) {
      if (index.has(root)) continue;
      const work: { key: string; i: number }[] = [{ key: root, i: 0 }];
      index.set(root, next);
      low.set(root, next++);
      stack.push(root);
      onStack.add(root);
      while (work.length > 0) {
        const frame = work[work.length - 1];
        const refs = this.entries.get(frame.key)!.refs;
        if (frame.i < refs.length) {
          const to = refs[frame.i++];
          if (to === frame.key || !this.entries.has(to)) continue;
          if (!index.has(to)) {
            index.set(to, next);
            low.set(to, next++);
            stack.push(to);
            onStack.add(to);
            work.push({ key: to, i: 0 });
          } else if (onStack.has(to)) {
            low.set(frame.key, Math.min(low.get(frame.key)!, index.get(to)!));
          }
          continue;
        }
        work.pop();
        if (work.length > 0) {
          const parent = work[work.length - 1].key;
          low.set(parent, Math.min(low.get(parent)!, low.get(frame.key)!));
        }
        if (low.get(frame.key) === index.get(frame.key)) {
          const component: string[] = [];
          let k: string;
          do {
            k = stack.pop()!;
            onStack.delete(k);
            component.push(k);
          } while (k !== frame.key);
          out.push(component.reverse());
        }
      }
    }
    return out;
  }
}

/**
 * Collects the references of a resource as keys; a `urn:uuid:<id>` naming a resource already
 * added becomes `Type/id` in place (a canonical file's references to earlier records).
 */
function collectReferences(value: unknown, typeOfId: ReadonlyMap<string, string>, refs: string[]): void {
  if (Array.isArray(value)) {
    for (const v of value) collectReferences(v, typeOfId, refs);
  } else if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    for (const key in obj) {
      const v = obj[key];
      if (key === 'reference' && typeof v === 'string') {
        if (v.startsWith('urn:uuid:')) {
          const type = typeOfId.get(v.slice(9));
          if (type) obj[key] = `${type}/${v.slice(9)}`;
        }
        if (!v.startsWith('#')) refs.push(referenceKey(obj[key] as string));
      } else if (typeof v === 'object') {
        collectReferences(v, typeOfId, refs);
      }
    }
  }
}

/** `Type/id` of a relative or absolute reference (a `_history` suffix dropped); other text as it is. */
function referenceKey(ref: string): string {
  const m = /(?:^|\/)([A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(ref);
  return m && !ref.startsWith('urn:') ? m[1] : ref;
}
