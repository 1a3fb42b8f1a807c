/**
 * References inside a Bundle, resolved as https://hl7.org/fhir/R4/bundle.html#references says:
 * - a `urn:uuid:` / `urn:oid:` reference names an entry's fullUrl and only that: one that matches
 *   no entry resolves to nothing, in any Bundle (a transaction whose urn:uuid names no entry
 *   cannot be processed). The reference validator: "URN reference is not locally contained
 *   within the bundle".
 * - in a `document` or `message` Bundle every resource the content refers to is in the Bundle, so
 *   a literal reference (`Type/id`, or `[base]/Type/id` on the base of an entry's fullUrl) that
 *   matches no entry is an error ("Can't find ... in the bundle");
 * - a versioned reference (`Type/id/_history/v`) to a resource that is in the Bundle must match
 *   that entry's meta.versionId.
 * References inside a `Parameters` entry (its parameters' resources, as in a message carrying an
 * operation's input) point into the same message: they resolve against the entries and the
 * resources the Parameters carries. Logical references (identifier only), contained (`#id`) and
 * search (`Type?...`) references are not literal references into the Bundle and are left alone.
 */
import { objectsAt, type Json, type Report } from './types';

const LITERAL = /^(?:(.*)\/)?([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([A-Za-z0-9\-.]{1,64}))?$/;

interface Target {
  version: string | undefined;
}

/** The entries of a Bundle by fullUrl and by Type/id (with the base of a RESTful fullUrl). */
function index(entries: Json[]): { byFullUrl: Map<string, Target>; byTypeId: Map<string, Target[]>; bases: Set<string> } {
  const byFullUrl = new Map<string, Target>();
  const bases = new Set<string>();
  const byTypeId = new Map<string, Target[]>();
  for (const e of entries) {
    const r = e.resource as Json | undefined;
    const meta = r?.meta as Json | undefined;
    const target: Target = { version: typeof meta?.versionId === 'string' ? meta.versionId : undefined };
    if (typeof e.fullUrl === 'string') {
      byFullUrl.set(e.fullUrl, target);
      const m = LITERAL.exec(e.fullUrl);
      if (m?.[1]) {
        bases.add(m[1]);
      }
    }
    if (r && typeof r.resourceType === 'string' && typeof r.id === 'string') {
      const key = `${r.resourceType}/${r.id}`;
      byTypeId.set(key, [...(byTypeId.get(key) ?? []), target]);
    }
    if (r?.resourceType === 'Parameters') {
      indexParameters(objectsAt(r, 'parameter'), byTypeId);
    }
  }
  return { byFullUrl, byTypeId, bases };
}

/** Resources carried in a Parameters (and its parts) are part of the message too. */
function indexParameters(params: Json[], byTypeId: Map<string, Target[]>, depth = 0): void {
  for (const p of params) {
    const r = p.resource as Json | undefined;
    if (r && typeof r.resourceType === 'string' && typeof r.id === 'string') {
      const meta = r.meta as Json | undefined;
      const key = `${r.resourceType}/${r.id}`;
      byTypeId.set(key, [...(byTypeId.get(key) ?? []), { version: typeof meta?.versionId === 'string' ? meta.versionId : undefined }]);
    }
    if (depth < 16) {
      indexParameters(objectsAt(p, 'part'), byTypeId, depth + 1);
    }
  }
}

/**
 * Calls `visit(reference, path)` for every Reference.reference below a value (narrative, contained
 * resources and nested Bundles skipped). The path is only spelled out for the references found.
 */
function eachReference(value: unknown, path: string, visit: (ref: string, path: string) => void): void {
  const keys: (string | number)[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth > 64 || v === null || typeof v !== 'object') {
      return;
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const item: unknown = v[i];
        if (item !== null && typeof item === 'object') {
          keys.push(i);
          walk(item, depth + 1);
          keys.pop();
        }
      }
      return;
    }
    const obj = v as Json;
    if (depth > 0 && obj.resourceType === 'Bundle') {
      return; // a nested Bundle resolves in its own scope
    }
    for (const k in obj) {
      const child = obj[k];
      if (k === 'reference' && typeof child === 'string') {
        visit(child, spell(path, keys) + '.reference');
      } else if (child !== null && typeof child === 'object' && k !== 'text' && k !== 'contained') {
        keys.push(k);
        walk(child, depth + 1);
        keys.pop();
      }
    }
  };
  walk(value, 0);
}

function spell(path: string, keys: (string | number)[]): string {
  let out = path;
  for (const k of keys) {
    out += typeof k === 'number' ? `[${k}]` : `.${k}`;
  }
  return out;
}

/** urn references resolve in every Bundle; literal references in documents and messages; versions match. */
export function checkBundleReferences(bundle: Json, path: string, report: Report): void {
  const entries = objectsAt(bundle, 'entry');
  if (entries.length === 0 || bundle.type === 'history') {
    return;
  }
  const closed = bundle.type === 'document' || bundle.type === 'message';
  const { byFullUrl, byTypeId, bases } = index(entries);
  entries.forEach((entry, i) => {
    eachReference(entry.resource, `${path}.entry[${i}].resource`, (ref, where) => {
      if (ref.startsWith('urn:uuid:') || ref.startsWith('urn:oid:')) {
        if (!byFullUrl.has(ref)) {
          report('error', 'not-found', `URN reference '${ref}' is not the fullUrl of any entry in this Bundle`, where);
        }
        return;
      }
      if (ref.startsWith('#') || ref.includes('?')) {
        return;
      }
      const m = LITERAL.exec(ref);
      if (!m) {
        return; // malformed references are reported where they are walked
      }
      const [, base, type, id, version] = m;
      const unversioned = base !== undefined ? `${base}/${type}/${id}` : `${type}/${id}`;
      const found = byFullUrl.get(unversioned) ?? (base === undefined || !closed ? byTypeId.get(`${type}/${id}`)?.[0] : undefined);
      if (!found) {
        // An absolute reference is into the Bundle when it shares the base of an entry's fullUrl.
        if (closed && (base === undefined || bases.has(base))) {
          report('error', 'not-found', `Can't find '${ref}' in the bundle: a ${String(bundle.type)} Bundle carries every resource it refers to`, where);
        }
        return;
      }
      if (version !== undefined && found.version !== version) {
        report(
          'error',
          'invalid',
          found.version === undefined
            ? `Versioned reference '${ref}': the entry for ${type}/${id} in this Bundle has no meta.versionId, so the version cannot be matched`
            : `Versioned reference '${ref}' does not match the version of ${type}/${id} in this Bundle (${found.version})`,
          where,
        );
      }
    });
  });
}
