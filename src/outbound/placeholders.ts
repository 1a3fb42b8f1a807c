/**
 * A Bundle that leaves for another server holds or resolves every reference it makes (issue 18
 * item 4; docs/architecture.md#references-in-bundles-that-leave). A reference to a resource the run
 * made is to its entry (a PUT to its deterministic id). A reference to a record the run did not
 * carry (a contact's program, peer or person sent in an earlier export; an HL7 v2 visit's episode)
 * is known only by the target's source-record identifier; the Bundle then carries a placeholder
 * for it: a conditional create (https://hl7.org/fhir/R4/http.html#ccreate), `POST Type` with
 * `ifNoneExist: identifier=<system>|<value>`, whose resource holds that identifier and nothing
 * the run does not know, tagged SUBSETTED (v3-ObservationValue: "an incomplete resource"). The
 * references point at the placeholder's fullUrl (`urn:uuid:<id>`), so a server that has the
 * target (it was sent before) resolves them to it and creates nothing, and a fresh server gets the
 * placeholder, which the real record replaces when it comes (PeerBridge keeps the deterministic
 * id of a conditional create that matches nothing, so the later PUT updates the same resource).
 *
 * Conditional references (`Patient?identifier=...`) were the other choice; they were not taken
 * because a transaction with one that matches nothing fails, so a Bundle would need the targets on
 * the receiving server before it could be sent.
 */
import type { BundleEntry, Identifier, Reference, Resource } from '@medplum/fhirtypes';
import { putEntry } from '../fhir/bundle';
import { cs, PART2_LABELS } from '../fhir/codes';
import type { ReferenceLog } from '../fhir/context';

/** `meta.tag` of a placeholder: the resource is a subset of the real one (http://terminology.hl7.org/CodeSystem/v3-ObservationValue). */
export const SUBSETTED_TAG = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED', display: 'subsetted' };

/** Characters that a token search value must escape (https://hl7.org/fhir/R4/search.html#escaping): ids with them get no placeholder. */
const NEEDS_ESCAPE = /[\\|,$]/;

const REFERENCE_RE = /"reference":"([A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64})"/g;

interface EpisodeContext {
  patient: string;
  organization?: string;
}

/** What placing the references of an output needs: the placeholders, and the references that stay outside (no identifier known). */
export interface Closure {
  /** Placeholder entry per `Type/id`. */
  placeholders: Map<string, BundleEntry>;
  /** `Type/id` references to resources neither in the output nor placeheld. */
  outside: string[];
}

/**
 * Collects, while a run translates, the source-record identifier of every referred-to record
 * (the ReferenceLog of the mapping context) and the person and program of the episodes referred to
 * (what a placeholder EpisodeOfCare needs: `status` and `patient` are required). Memory: one entry
 * per distinct person, organization, practitioner and episode referred to, never the resources.
 */
export class ReferenceTargets implements ReferenceLog {
  private readonly identifiers = new Map<string, { system: string; value: string }>();
  private readonly systems = new Map<string, string>();
  private readonly episodes = new Map<string, EpisodeContext>();
  /** Targets a 42 CFR Part 2 record refers to: their placeholders carry the same labels. */
  private readonly part2 = new Set<string>();

  note(type: string, id: string, identifier: { system: string; value: string }): void {
    const key = `${type}/${id}`;
    if (this.identifiers.has(key)) return;
    let system = this.systems.get(identifier.system);
    if (system === undefined) {
      system = identifier.system;
      this.systems.set(system, system);
    }
    this.identifiers.set(key, { system, value: identifier.value });
  }

  /** Learns from one resource of the output (before its references are rewritten); returns the `Type/id` keys it refers to. */
  observe(resource: Resource): string[] {
    const keys = referenceKeys(resource);
    if (resource.meta?.security?.some((c) => c.code === '42CFRPart2')) for (const k of keys) this.part2.add(k);
    const episodes = keys.filter((k) => k.startsWith('EpisodeOfCare/') && !this.episodes.has(k));
    if (episodes.length) {
      const r = resource as { subject?: Reference; patient?: Reference; serviceProvider?: Reference };
      const patient = [r.subject?.reference, r.patient?.reference].find((x) => x?.startsWith('Patient/'));
      const organization = r.serviceProvider?.reference?.startsWith('Organization/') ? r.serviceProvider.reference : undefined;
      if (patient) for (const k of episodes) this.episodes.set(k, organization ? { patient, organization } : { patient });
    }
    return keys;
  }

  /**
   * The placeholders for `referenced` keys that are not `present`, and those of the references the
   * placeholders make themselves (an episode's person), in the order first needed.
   */
  close(referenced: Iterable<string>, present: (key: string) => boolean): Closure {
    const placeholders = new Map<string, BundleEntry>();
    const outside: string[] = [];
    const seen = new Set<string>();
    const work = [...referenced];
    // An index, not shift(): a run may refer to hundreds of thousands of records.
    for (let i = 0; i < work.length; i++) {
      const key = work[i];
      if (seen.has(key) || present(key)) continue;
      seen.add(key);
      const entry = this.placeholder(key);
      if (!entry) {
        outside.push(key);
        continue;
      }
      placeholders.set(key, entry);
      const refs = referenceKeys(entry.resource as Resource);
      // An episode's person is as sensitive as the episode.
      if (this.part2.has(key)) for (const k of refs) this.part2.add(k);
      work.push(...refs);
    }
    return { placeholders, outside };
  }

  /** The placeholder entry of a `Type/id`, or undefined when it cannot be made (no identifier, an id to escape, an episode without its person). */
  placeholder(key: string): BundleEntry | undefined {
    const identifier = this.identifiers.get(key);
    if (!identifier || NEEDS_ESCAPE.test(identifier.value) || NEEDS_ESCAPE.test(identifier.system)) return undefined;
    const [type, id] = key.split('/');
    const resource: Record<string, unknown> = {
      resourceType: type,
      id,
      meta: { tag: [{ ...SUBSETTED_TAG }], ...(this.part2.has(key) ? { security: PART2_LABELS.map((c) => ({ ...c })) } : {}) },
      identifier: [recordIdentifier(identifier)],
    };
    if (type === 'EpisodeOfCare') {
      const episode = this.episodes.get(key);
      if (!episode) return undefined;
      // A record refers to the episode, so it was under way: `active` is what the referrer implies; the real record says more.
      resource.status = 'active';
      resource.patient = { reference: episode.patient };
      if (episode.organization) resource.managingOrganization = { reference: episode.organization };
    }
    return {
      fullUrl: `urn:uuid:${id}`,
      resource: resource as unknown as Resource,
      request: { method: 'POST', url: type, ifNoneExist: `identifier=${encodeURIComponent(identifier.system)}|${encodeURIComponent(identifier.value)}` },
    };
  }
}

/** The source-record identifier (as src/fhir/context.ts `recordIdentifier` writes it). */
function recordIdentifier(i: { system: string; value: string }): Identifier {
  return {
    type: { coding: [{ system: cs('peerbridge-codes'), code: 'source-record', display: 'Source record identifier' }] },
    system: i.system,
    value: i.value,
  };
}

/** `Type/id` of every relative reference in a resource (`urn:uuid:`, contained and absolute ones left out). */
export function referenceKeys(resource: Resource): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) walk(x);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if (k === 'reference' && typeof x === 'string') {
          if (/^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(x)) out.push(x);
        } else if (typeof x === 'object') {
          walk(x);
        }
      }
    }
  };
  walk(resource);
  return out;
}

/** An entry's JSON with its references to placeheld resources pointed at their fullUrls (`urn:uuid:<id>`). */
export function pointAtPlaceholders(json: string, placeholders: { has(key: string): boolean; readonly size: number }): string {
  if (placeholders.size === 0) return json;
  return json.replace(REFERENCE_RE, (all, key: string) => (placeholders.has(key) ? `"reference":"urn:uuid:${key.slice(key.indexOf('/') + 1)}"` : all));
}

/**
 * The entries of one transaction Bundle of `resources` (each a PUT, src/fhir/bundle.ts
 * `putEntry`), references to resources not among them resolved by placeholders; `outside` lists
 * what stays unresolved. For a Bundle held in memory (tests, small outputs); the CLI streams the same.
 */
export function closedEntries(resources: Resource[], targets: ReferenceTargets): { entries: BundleEntry[]; outside: string[] } {
  const present = new Set(resources.map((r) => `${r.resourceType}/${r.id}`));
  const referenced = new Set<string>();
  for (const r of resources) for (const k of targets.observe(r)) referenced.add(k);
  const { placeholders, outside } = targets.close(referenced, (k) => present.has(k));
  const entries = [...resources.map(putEntry), ...placeholders.values()];
  return { entries: entries.map((e) => JSON.parse(pointAtPlaceholders(JSON.stringify(e), placeholders)) as BundleEntry), outside };
}

/** One placeholder as a series of Bundles carries it: its entry's JSON, size and JSON values, and the placeholders it needs in turn. */
interface SeriesPlaceholder {
  json: string;
  bytes: number;
  values: number;
  needs: string[];
}

/**
 * The placeholders of a series of Bundles (src/outbound/split.ts): a `urn:uuid` resolves only in
 * its own Bundle, so each Bundle carries a copy of every placeholder its entries refer to (a
 * conditional create finds what the copy in an earlier Bundle made). `values` counts an entry's
 * JSON values as the splitter does.
 */
export class SeriesPlaceholders {
  private readonly byKey = new Map<string, SeriesPlaceholder>();

  constructor(closure: Closure, values: (entry: BundleEntry) => number) {
    for (const [key, entry] of closure.placeholders) {
      const json = pointAtPlaceholders(JSON.stringify(entry), closure.placeholders);
      const needs = referenceKeys(entry.resource as Resource).filter((k) => closure.placeholders.has(k));
      this.byKey.set(key, { json, bytes: Buffer.byteLength(json), values: values(entry), needs });
    }
  }

  get size(): number {
    return this.byKey.size;
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  /** Adds to `into` the placeholders `key` needs: itself and those its placeholder refers to. */
  need(key: string, into: Set<string>): void {
    const p = this.byKey.get(key);
    if (!p || into.has(key)) return;
    into.add(key);
    for (const k of p.needs) this.need(k, into);
  }

  /** Bytes (with `separator` each) and JSON values of these placeholders' entries. */
  cost(keys: Iterable<string>, separator: number): { entries: number; bytes: number; values: number } {
    const out = { entries: 0, bytes: 0, values: 0 };
    for (const k of keys) {
      const p = this.byKey.get(k) as SeriesPlaceholder;
      out.entries++;
      out.bytes += p.bytes + separator;
      out.values += p.values;
    }
    return out;
  }

  json(key: string): string {
    return (this.byKey.get(key) as SeriesPlaceholder).json;
  }
}
