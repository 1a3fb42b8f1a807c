/**
 * Deterministic ids (DESIGN.md): the FHIR id of a resource is a name-based UUID (RFC 9562 version
 * 5, SHA-1) of (source system, kind, source record id), so translating the same record again
 * yields the same id and a PUT updates instead of duplicating. FHIR ids allow 64 characters of
 * [A-Za-z0-9-.]; a UUID fits and leaks nothing of the source id.
 */
import { createHash } from 'node:crypto';

/** The id of the resource of `kind` (a resource type, or `Type/role` when one record makes two of a type) made from `recordId`. */
export function resourceId(source: string, kind: string, recordId: string): string {
  const h = createHash('sha1').update(`${source}\u0000${kind}\u0000${recordId}`).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The `Identifier.system` naming records of one kind in a source: `<source>/<kind>`. */
export function recordSystem(source: string, kind: string): string {
  return `${source.replace(/\/+$/, '')}/${kind}`;
}
