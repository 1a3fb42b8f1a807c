/**
 * Checks a folder written by `translate --out-dir`: every Bundle within the manifest's limits,
 * no resource twice, and every reference to a resource of the output resolvable in its own
 * Bundle or an earlier one (a `urn:uuid` only in its own). Placeholders (conditional creates of
 * records referred to but not in the output, src/outbound/placeholders.ts) may be in several
 * Bundles: each carries those its entries refer to.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import type { Manifest } from '../../src/outbound/split';
import { countElements } from '../../src/validation/budget';

export interface Series {
  manifest: Manifest;
  bundles: Bundle[];
  /** `Type/id` of every PUT entry (the output's resources), in order. */
  keys: string[];
  /** `Type/id` of the placeholders (POST entries with ifNoneExist), each once. */
  placeholders: string[];
  /** Placeholder entries in all the Bundles (copies counted). */
  placeholderEntries: number;
}

const isPlaceholder = (e: BundleEntry) => e.request?.method === 'POST' && e.request.ifNoneExist !== undefined;

export function readSeries(dir: string): Series {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const bundles = manifest.bundles.map((b) => JSON.parse(readFileSync(join(dir, b.file), 'utf8')) as Bundle);
  const key = (e: BundleEntry) => `${e.resource!.resourceType}/${e.resource!.id}`;
  const entries = bundles.flatMap((b) => b.entry ?? []);
  const keys = entries.filter((e) => !isPlaceholder(e)).map(key);
  const copies = entries.filter(isPlaceholder).map(key);
  return { manifest, bundles, keys, placeholders: [...new Set(copies)], placeholderEntries: copies.length };
}

function references(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => references(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string') out.push(v);
      else references(v, out);
    }
  }
  return out;
}

/** The problems found (empty when the series is sound). */
export function seriesProblems(dir: string): string[] {
  const { manifest, bundles, keys, placeholders } = readSeries(dir);
  const problems: string[] = [];
  const all = new Set(keys);
  if (all.size !== keys.length) problems.push(`${keys.length - all.size} resources appear twice`);
  for (const p of placeholders) if (all.has(p)) problems.push(`${p} is both a resource of the output and a placeholder`);
  const written = new Set<string>();
  bundles.forEach((bundle, n) => {
    const file = manifest.bundles[n].file;
    const text = readFileSync(join(dir, file));
    if (text.length > manifest.limits.bytes) problems.push(`${file} is ${text.length} bytes, over ${manifest.limits.bytes}`);
    if ((bundle.entry ?? []).length > manifest.limits.entries) problems.push(`${file} has ${bundle.entry!.length} entries, over ${manifest.limits.entries}`);
    const values = countElements(bundle, Infinity);
    if (values !== manifest.bundles[n].values) problems.push(`${file} has ${values} JSON values, the manifest says ${manifest.bundles[n].values}`);
    if (values > manifest.limits.values) problems.push(`${file} has ${values} JSON values, over ${manifest.limits.values}`);
    if (bundle.type !== 'transaction') problems.push(`${file} is not a transaction`);
    const fullUrls = new Set((bundle.entry ?? []).map((e) => e.fullUrl));
    for (const e of bundle.entry ?? []) {
      const r = e.resource as Resource;
      if (isPlaceholder(e)) {
        if (e.fullUrl !== `urn:uuid:${r.id}`) problems.push(`${file}: placeholder ${r.resourceType}/${r.id} has fullUrl ${e.fullUrl}`);
        continue;
      }
      written.add(`${r.resourceType}/${r.id}`);
      if (e.request?.method !== 'PUT' || e.request.url !== `${r.resourceType}/${r.id}`)
        problems.push(`${file}: ${r.resourceType}/${r.id} is not a PUT to its id`);
    }
    for (const e of bundle.entry ?? []) {
      for (const ref of references(e.resource)) {
        if (ref.startsWith('urn:uuid:')) {
          if (!fullUrls.has(ref)) problems.push(`${file}: ${ref} names no entry of its Bundle`);
        } else if (placeholders.includes(ref)) {
          problems.push(`${file}: ${e.resource!.resourceType}/${e.resource!.id} refers to the placeholder ${ref} by Type/id, not by its fullUrl`);
        } else if (all.has(ref) && !written.has(ref)) {
          problems.push(`${file}: ${e.resource!.resourceType}/${e.resource!.id} refers to ${ref}, written only later`);
        }
      }
    }
  });
  return problems;
}
