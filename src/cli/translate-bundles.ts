/**
 * The series output of `peerbridge translate` (--out-dir, --post): the resources of a run go
 * to a BundleSplitter (src/outbound/split.ts), the Bundles to a folder with their manifest, and
 * with --post to a FHIR server (src/outbound/post.ts) with a token given or obtained by SMART
 * Backend Services; the summary lines say where they went and what the server answered.
 */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { BundleSizeError, BundleSplitter, DEFAULT_BUNDLE_LIMITS, type Manifest } from '../outbound/split';
import type { ReferenceTargets } from '../outbound/placeholders';
import { postBundles, type BundleResult, type PostReport, type TokenSource } from '../outbound/post';
import { requestAccessToken } from './auth-token';

/** The options of `translate` this part reads (see its --help). */
export interface SeriesOptions {
  input: string;
  outDir?: string;
  bundleSize?: number;
  bundleBytes?: number;
  bundleValues?: number;
  post?: string;
  token?: string;
  clientId?: string;
  key?: string;
  tokenUrl?: string;
  scope?: string;
  retries?: number;
  checkpoint?: string;
  postReport?: string;
  progress: boolean;
}

/** Where the Bundles went: the folder and its manifest, and what the server said. */
export interface Delivery {
  dir?: string;
  manifest?: Manifest;
  post?: PostReport;
  postReport?: string;
  checkpoint?: string;
  /** A Bundle the server did not accept. */
  notAccepted?: boolean;
}

export function deliveryJson(d: Delivery): Record<string, unknown> {
  if (!d.manifest) return {};
  return {
    bundles: {
      dir: d.dir,
      files: d.manifest.totals.bundles,
      entries: d.manifest.totals.entries,
      bytes: d.manifest.totals.bytes,
      outsideReferences: d.manifest.outsideReferences.count,
      placeholders: d.manifest.placeholders,
    },
    ...(d.post ? { post: { base: d.post.base, totals: d.post.totals, report: d.postReport, checkpoint: d.checkpoint } } : {}),
  };
}

/** Text lines about the Bundles written and sent. */
export function formatDelivery(d: Delivery): string {
  if (!d.manifest || !d.dir) return '';
  const m = d.manifest;
  const lines = [
    `Bundles: ${m.totals.bundles} in ${d.dir} (${m.totals.entries} entries, ${m.totals.bytes} bytes; at most ${m.limits.entries} entries, ${m.limits.bytes} bytes and ${m.limits.values} JSON values each; ${join(d.dir, 'manifest.json')} lists them)`,
  ];
  if (m.placeholders > 0) {
    lines.push(
      `  ${m.placeholders} referenced records are not in the output: the Bundles that refer to them carry a placeholder (a conditional create by source-record identifier), so they resolve on any server`,
    );
  }
  if (m.outsideReferences.count > 0) {
    lines.push(
      `  ${m.outsideReferences.count} referenced resources are in no Bundle (they must already be on the server), e.g. ${m.outsideReferences.first.slice(0, 3).join(', ')}`,
    );
  }
  if (d.post) {
    const t = d.post.totals;
    lines.push(
      `Posted to ${d.post.base}: ${t.accepted} accepted, ${t['already accepted']} already accepted (checkpoint ${d.checkpoint}), ${t.refused} refused, ${t.unreachable} unreachable, ${t['not sent']} not sent; report: ${d.postReport}`,
    );
    const failed = d.post.bundles.find((b) => b.result === 'refused' || b.result === 'unreachable');
    if (failed) {
      const last = failed.attempts[failed.attempts.length - 1];
      const why = failed.issues?.map((i) => i.details?.text ?? i.diagnostics ?? i.code).join('; ') || last?.error || `HTTP ${failed.status}`;
      lines.push(
        `  ${failed.file} ${failed.result} after ${failed.attempts.length} ${failed.attempts.length === 1 ? 'try' : 'tries'} (${failed.status ?? last?.error}): ${why}`,
      );
      lines.push('  Run the same command again to send the rest: Bundles already accepted are skipped.');
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Translates into a BundleSplitter, writes the series into --out-dir (default `<input>.bundles`
 * next to the input) and, with --post, sends it; fills in `delivery`. Undefined (after saying
 * why) on an error: a resource over the limits, an I/O error, a token refused.
 */
export async function writeSeries<R>(
  parsed: SeriesOptions,
  err: NodeJS.WritableStream,
  translate: (sink: (resources: Resource[]) => Promise<void>) => Promise<R>,
  delivery: Delivery,
  targets?: ReferenceTargets,
): Promise<R | undefined> {
  const dir = parsed.outDir ?? join(dirname(resolve(parsed.input)), `${inputStem(parsed.input)}.bundles`);
  const scratch = mkdtempSync(join(tmpdir(), 'pb-bundles-'));
  const splitter = new BundleSplitter(
    join(scratch, 'entries.json'),
    {
      entries: parsed.bundleSize ?? DEFAULT_BUNDLE_LIMITS.entries,
      bytes: parsed.bundleBytes ?? DEFAULT_BUNDLE_LIMITS.bytes,
      values: parsed.bundleValues ?? DEFAULT_BUNDLE_LIMITS.values,
    },
    targets,
  );
  const token = parsed.post ? tokenSource(parsed) : undefined;
  try {
    // A token first: credentials that do not work stop the run before a long translation.
    await token?.get();
    const result = await translate(async (resources) => {
      for (const r of resources) await splitter.add(r);
    });
    await splitter.finish();
    delivery.dir = dir;
    delivery.manifest = splitter.write(dir, splitter.plan());
    if (parsed.post) {
      delivery.checkpoint = parsed.checkpoint ?? join(dir, 'checkpoint.json');
      delivery.postReport = parsed.postReport ?? join(dir, 'post-report.json');
      const tty = parsed.progress && (err as NodeJS.WriteStream).isTTY === true;
      delivery.post = await postBundles(dir, delivery.manifest, {
        base: parsed.post,
        token,
        checkpointFile: delivery.checkpoint,
        reportFile: delivery.postReport,
        retries: parsed.retries,
        onBundle: tty ? (b: BundleResult) => err.write(`  ${b.file}: ${b.result} (${b.status ?? b.attempts[b.attempts.length - 1]?.error})\n`) : undefined,
      });
      delivery.notAccepted = delivery.post.totals.refused + delivery.post.totals.unreachable > 0;
    }
    return result;
  } catch (e) {
    err.write(`peerbridge translate: ${e instanceof BundleSizeError ? 'a Bundle cannot hold ' : ''}${(e as Error).message}\n`);
    return undefined;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** An access token: --token as given, or one from the SMART token endpoint (asked again after a 401). */
function tokenSource(parsed: SeriesOptions): TokenSource | undefined {
  if (parsed.token) {
    const token = parsed.token;
    return { get: async () => token };
  }
  if (!parsed.clientId || !parsed.key) return undefined;
  const { clientId, key } = parsed;
  let current: string | undefined;
  const fetchToken = async (): Promise<string> => {
    const tokenUrl = parsed.tokenUrl ?? (await discoverTokenUrl(parsed.post!));
    const result = await requestAccessToken(tokenUrl, clientId, key, parsed.scope ?? 'system/*.write');
    if (!result.ok) throw new Error(result.message);
    current = result.body.access_token;
    return current;
  };
  return { get: async () => current ?? fetchToken(), renew: fetchToken };
}

/** The token endpoint from `[base]/.well-known/smart-configuration` (SMART App Launch 2.0). */
async function discoverTokenUrl(base: string): Promise<string> {
  const url = `${base.replace(/\/+$/, '')}/.well-known/smart-configuration`;
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(15_000) });
  } catch (e) {
    throw new Error(`Could not reach ${url}: ${(e as Error).message} (give --token-url)`);
  }
  const body = (await res.json().catch(() => undefined)) as { token_endpoint?: unknown } | undefined;
  if (!res.ok || typeof body?.token_endpoint !== 'string') throw new Error(`${url} answered ${res.status} without a token_endpoint: give --token-url`);
  return body.token_endpoint;
}

/** The input's name without its extension (`contacts` for contacts.csv; `stdin` for -). */
export function inputStem(input: string): string {
  return input === '-' ? 'stdin' : basename(input.replace(/[\\/]+$/, '')).replace(/\.[^.]*$/, '') || 'input';
}
