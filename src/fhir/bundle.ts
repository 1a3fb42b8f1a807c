/**
 * The transaction Bundle of translated resources (https://hl7.org/fhir/R4/http.html#transaction):
 * every entry a PUT to its deterministic id, so re-sending a record updates it. Each entry's
 * fullUrl is `urn:uuid:<id>` (ids are UUIDs) and references between entries are rewritten to
 * those fullUrls, so they resolve inside the Bundle; references to resources sent earlier stay
 * `Type/id`.
 */
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';

/** Rewrites `Type/id` references whose target is in `ids` to `urn:uuid:id`, in place. */
export function rewriteReferences(value: unknown, ids: ReadonlySet<string>): void {
  if (Array.isArray(value)) {
    for (const v of value) rewriteReferences(v, ids);
  } else if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    for (const key in obj) {
      const v = obj[key];
      if (key === 'reference' && typeof v === 'string') {
        const slash = v.indexOf('/');
        if (slash > 0 && ids.has(v.slice(slash + 1))) {
          obj[key] = `urn:uuid:${v.slice(slash + 1)}`;
        }
      } else if (typeof v === 'object') {
        rewriteReferences(v, ids);
      }
    }
  }
}

/** One PUT entry. */
export function putEntry(resource: Resource): BundleEntry {
  return { fullUrl: `urn:uuid:${resource.id}`, resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } };
}

/** A transaction Bundle of PUTs with references between entries resolved to their fullUrls. */
export function toTransactionBundle(resources: Resource[]): Bundle {
  const ids = new Set(resources.map((r) => r.id as string));
  const entry = resources.map((r) => {
    const copy = structuredClone(r);
    rewriteReferences(copy, ids);
    return putEntry(copy);
  });
  return { resourceType: 'Bundle', type: 'transaction', entry };
}
