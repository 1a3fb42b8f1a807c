/**
 * Deterministic ids (docs/architecture.md#deterministic-ids): the FHIR id of a resource is a name-based UUID (RFC 9562 version
 * 5, SHA-1) of (source system, kind, source record id), so translating the same record again
 * yields the same id and a PUT updates instead of duplicating. FHIR ids allow 64 characters of
 * [A-Za-z0-9-.]; a UUID fits and leaks nothing of the source id.
 */
import { hash } from 'node:crypto';

/**
 * Recently made ids: a record's references (patient, episode, specialist, organization) name the
 * same few resources over and over, and a SHA-1 per reference was a visible share of translation
 * time. Bounded (emptied when full) so memory stays flat however many records a run reads.
 */
const recent = new Map<string, Map<string, Map<string, string>>>();
let recentSize = 0;
const RECENT_MAX = 10_000;

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');

/**
 * The first 16 bytes as `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, built as one flat string: a
 * template of slices would be a tree of string pieces (~230 bytes instead of ~56), and a run keeps
 * every id it emitted.
 */
function formatUuid(bytes: Buffer): string {
  const out = Buffer.allocUnsafe(36);
  let j = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) {
      out[j++] = 0x2d;
    }
    out[j++] = HEX_DIGITS[bytes[i] >> 4];
    out[j++] = HEX_DIGITS[bytes[i] & 0x0f];
  }
  return out.toString('latin1');
}

/** The id of the resource of `kind` (a resource type, or `Type/role` when one record makes two of a type) made from `recordId`. */
export function resourceId(source: string, kind: string, recordId: string): string {
  // Looked up by source, kind and record id without building the hashed name: most calls are hits.
  let byKind = recent.get(source);
  let ids = byKind?.get(kind);
  let id = ids?.get(recordId);
  if (id === undefined) {
    const h = hash('sha1', `${source}\u0000${kind}\u0000${recordId}`, 'buffer');
    h[6] = (h[6] & 0x0f) | 0x50;
    h[8] = (h[8] & 0x3f) | 0x80;
    id = formatUuid(h);
    if (recentSize >= RECENT_MAX) {
      recent.clear();
      recentSize = 0;
      byKind = undefined;
      ids = undefined;
    }
    if (!byKind) {
      byKind = new Map();
      recent.set(source, byKind);
    }
    if (!ids) {
      ids = new Map();
      byKind.set(kind, ids);
    }
    ids.set(recordId, id);
    recentSize++;
  }
  return id;
}

/** The `Identifier.system` naming records of one kind in a source: `<source>/<kind>`. */
export function recordSystem(source: string, kind: string): string {
  return `${source.replace(/\/+$/, '')}/${kind}`;
}
