/**
 * Bundle entry identity and links, https://hl7.org/fhir/R4/bundle.html:
 * - `entry.fullUrl` is the absolute identity of the resource: an absolute URL, or a `urn:uuid:` /
 *   `urn:oid:` (a relative fullUrl such as `Patient/1` identifies nothing outside the sender);
 * - `link` with relation `self` (the URL the Bundle was fetched from) appears at most once.
 */
import { objectsAt, type Json, type Report } from './types';

const ABSOLUTE = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;

/** fullUrl of every entry, and the self link. */
export function checkBundleEntries(bundle: Json, path: string, report: Report): void {
  objectsAt(bundle, 'entry').forEach((entry, i) => {
    const fullUrl = entry.fullUrl;
    if (typeof fullUrl === 'string' && !ABSOLUTE.test(fullUrl)) {
      report('error', 'invalid', `fullUrl '${fullUrl}' must be an absolute URL, a urn:uuid: or a urn:oid: (a relative URL identifies nothing)`, `${path}.entry[${i}].fullUrl`);
    }
  });
  const self = objectsAt(bundle, 'link')
    .map((l, i) => ({ l, i }))
    .filter(({ l }) => l.relation === 'self');
  for (const { i } of self.slice(1)) {
    report('error', 'invalid', `A Bundle has at most one link with relation 'self'; found ${self.length}`, `${path}.link[${i}]`);
  }
}
