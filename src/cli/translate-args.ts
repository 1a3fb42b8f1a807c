/**
 * The options of `peerbridge translate` (src/cli/translate.ts): the --help text with its
 * defaults, and the parsing and checking of the arguments into Args. A bad option is a
 * UsageError, which the command reports with exit code 2.
 */
import { mappingNames, mappingsRoot } from '../pipeline/sources';
import { DEFAULT_BUNDLE_LIMITS } from '../outbound/split';
import type { SeriesOptions } from './translate-bundles';

export class UsageError extends Error {}

export const HELP = `Usage: peerbridge translate --mapping <canonical|name|path> <input|folder|-> [options]

Translates a canonical file, or an outside export through a mapping, into FHIR transaction Bundles
(every entry a PUT to a deterministic id, so re-sending updates).

Input and mapping:
  --mapping <m>         canonical (the native JSON format), a mapping by name (a folder <name>/ or a
                        one-file mapping <name>.yaml in the mappings folder), or the path of your
                        own mapping folder or one-file mapping (.yaml)
  --mappings-dir <dir>  the mappings folder names are looked up in (default: MAPPINGS_DIR of the
                        environment, else the shipped mappings/)
  <input>               a file, a folder (every file a feed reads, in the feeds' order), or - (stdin)
  --feed <name>         the feed that reads the input (needed for stdin when the mapping has several)

Output (one of):
  --out <file>          one transaction Bundle to this file (default: standard output)
  --out-dir <dir>       a series of Bundles, 0001.json, 0002.json ..., and manifest.json (files,
                        entries, bytes, SHA-256, resource counts); a Bundle never refers to a
                        resource that only a later one writes (resources in a reference cycle share
                        one Bundle); a resource too big for any Bundle is an error naming it
  --bundle-size <n>     at most n entries per Bundle (default ${DEFAULT_BUNDLE_LIMITS.entries})
  --bundle-bytes <n>    at most n bytes per Bundle: a number, or with KB/MB (KiB/MiB) (default 12MB:
                        PeerBridge takes 16 MB bodies)
  --bundle-values <n>   at most n JSON values per Bundle (default ${DEFAULT_BUNDLE_LIMITS.values}: PeerBridge reads
                        200,000, VALIDATION_MAX_ELEMENTS). All three limits hold.

Send to a FHIR server (POST [base] with each Bundle, in order):
  --post <base URL>     e.g. http://localhost:8080/fhir. Bundles are written to --out-dir (default
                        <input>.bundles next to the input) first. 408/429/502/503/504 and network
                        errors are retried with backoff (Retry-After honoured); any other error
                        stops the run and is recorded
  --token <bearer>      an access token, or:
  --client-id <id> --key <private key file>
                        SMART Backend Services: a token from the server's token endpoint
                        ([base]/.well-known/smart-configuration, or --token-url), renewed on a 401
  --token-url <url>     the token endpoint
  --scope <scope>       the scope asked for (default system/*.write)
  --retries <n>         tries after the first for a retried answer (default 5)
  --checkpoint <file>   Bundles accepted so far, per server (default <out-dir>/checkpoint.json): a
                        rerun skips them and sends the rest
  --post-report <file>  per Bundle: attempts, status, OperationOutcome issues, response entry
                        statuses (default <out-dir>/post-report.json)

Reports:
  --report <file>       the summary as JSON
  --rejects <file>      rejected records of an outside source, one NDJSON line each (default
                        <input name>.rejects.ndjson next to the input, stdin.rejects.ndjson in the
                        current folder for stdin; written only when something was rejected)
  --format text|json    the summary on stderr as text (default) or one JSON line
  --no-progress         no progress bar
  --help                this text

Exit: 0 all accepted, 1 a record rejected or a Bundle not accepted by the server, 2 usage,
mapping or I/O error, a resource over the Bundle limits, or credentials that get no token.
`;

/** The options of `translate`: those of the Bundle series (--out-dir, --post: SeriesOptions) and the rest. */
export interface Args extends SeriesOptions {
  mapping: string;
  mappingsDir?: string;
  feed?: string;
  out?: string;
  report?: string;
  rejects?: string;
  format: 'text' | 'json';
  progress: boolean;
  help?: boolean;
}

/** A size: bytes, or with KB/MB (1024-based, as KiB/MiB). */
export function parseBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|k|mb|mib|m)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`--bundle-bytes must be a number of bytes, or with KB or MB, not '${text}'`);
  const unit = (m[2] ?? 'b').toLowerCase();
  const n = Math.floor(Number(m[1]) * (unit.startsWith('m') ? 1024 * 1024 : unit.startsWith('k') ? 1024 : 1));
  if (n < 1024) throw new UsageError(`--bundle-bytes must be at least 1KB, not '${text}'`);
  return n;
}

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a whole number of at least 1, not '${text}'`);
  return n;
}

export function parseArgs(args: string[]): Args {
  const rest: string[] = [];
  const opts: Partial<Args> = { format: 'text', progress: true };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const value = (): string => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    const name = a.split('=')[0];
    if (name === '--mapping') opts.mapping = value();
    else if (name === '--mappings-dir') opts.mappingsDir = value();
    else if (name === '--out') opts.out = value();
    else if (name === '--out-dir') opts.outDir = value();
    else if (name === '--bundle-size') opts.bundleSize = positive(name, value());
    else if (name === '--bundle-bytes') opts.bundleBytes = parseBytes(value());
    else if (name === '--bundle-values') opts.bundleValues = positive(name, value());
    else if (name === '--post') opts.post = value();
    else if (name === '--token') opts.token = value();
    else if (name === '--client-id') opts.clientId = value();
    else if (name === '--key') opts.key = value();
    else if (name === '--token-url') opts.tokenUrl = value();
    else if (name === '--scope') opts.scope = value();
    else if (name === '--retries') {
      const v = value();
      if (!/^\d+$/.test(v)) throw new UsageError(`--retries must be a whole number (0 or more), not '${v}'`);
      opts.retries = Number(v);
    } else if (name === '--checkpoint') opts.checkpoint = value();
    else if (name === '--post-report') opts.postReport = value();
    else if (name === '--report') opts.report = value();
    else if (name === '--rejects') opts.rejects = value();
    else if (name === '--feed') opts.feed = value();
    else if (name === '--no-progress') opts.progress = false;
    else if (name === '--help' || name === '-h') opts.help = true;
    else if (name === '--format') {
      const v = value();
      if (v !== 'text' && v !== 'json') throw new UsageError(`--format must be text or json, not '${v}'`);
      opts.format = v;
    } else if (a.startsWith('-') && a !== '-') throw new UsageError(`Unknown option '${a}' (peerbridge translate --help lists them)`);
    else rest.push(a);
  }
  if (opts.help) return opts as Args;
  if (!opts.mapping)
    throw new UsageError(
      `--mapping is required: canonical (the native JSON format), a mapping of ${mappingsRoot(opts.mappingsDir)} (${mappingNames(mappingsRoot(opts.mappingsDir)).join(', ')}), the path of a mapping folder, or a one-file mapping (.yaml)`,
    );
  if (opts.mapping === 'canonical' && (opts.feed || opts.rejects))
    throw new UsageError('--feed and --rejects are for outside sources; a canonical file reports its rejected records in the summary');
  if (rest.length !== 1) throw new UsageError('Give exactly one input file (or - for standard input)');
  if (opts.out && (opts.outDir || opts.post)) throw new UsageError('--out writes one Bundle; --out-dir and --post write a series: give one or the other');
  if ((opts.bundleSize || opts.bundleBytes || opts.bundleValues) && !opts.outDir && !opts.post)
    throw new UsageError('--bundle-size, --bundle-bytes and --bundle-values need --out-dir or --post');
  const postOnly = (['token', 'clientId', 'key', 'tokenUrl', 'scope', 'retries', 'checkpoint', 'postReport'] as const).filter((k) => opts[k] !== undefined);
  if (!opts.post && postOnly.length)
    throw new UsageError(
      `${postOnly.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')} ${postOnly.length === 1 ? 'is' : 'are'} for --post`,
    );
  if (opts.post) {
    try {
      const u = new URL(opts.post);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
    } catch {
      throw new UsageError(`--post needs the FHIR base URL (http or https, e.g. http://localhost:8080/fhir), not '${opts.post}'`);
    }
    if (opts.token && (opts.clientId || opts.key)) throw new UsageError('Give --token, or --client-id with --key, not both');
    if (!!opts.clientId !== !!opts.key) throw new UsageError('--client-id and --key go together (SMART Backend Services)');
    if (!opts.outDir && rest[0] === '-') throw new UsageError('--post with standard input needs --out-dir (where the Bundles and the checkpoint are kept)');
  }
  return { ...(opts as Args), input: rest[0] };
}
