/**
 * Mapping files as plain data, cached by content: `<cache>/parsed-yaml/<sha-256>.json` beside the
 * definitions cache (`build/`, or PEERBRIDGE_CACHE_DIR's parent). The server, each of its worker
 * threads and the CLI load every mapping at start; YAML parsing with line positions was most of
 * that (~0.25 s cold, the YAML library's code not yet optimised), JSON is a fraction of it. The key
 * hashes the text with the reading rules' version (yaml-file.ts `toPlain`) and the YAML library's,
 * so a changed file or a new rule is a new entry. Only data that JSON gives back unchanged is kept
 * (YAML's `.inf` and `.nan` are not). A cache that cannot be read or written is skipped: it is only
 * ever a shortcut.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';

/** Bump when yaml-file.ts `toPlain` reads a file differently. */
const READING_RULES = 1;

let yamlVersion: string | undefined;

function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.PEERBRIDGE_CACHE_DIR ? resolve(env.PEERBRIDGE_CACHE_DIR, '..') : resolve(__dirname, '..', '..', 'build');
  return join(base, 'parsed-yaml');
}

function keyOf(text: string): string {
  yamlVersion ??= (JSON.parse(readFileSync(require.resolve('yaml/package.json'), 'utf8')) as { version: string }).version;
  return createHash('sha256').update(`${READING_RULES}\0${yamlVersion}\0${text}`).digest('hex');
}

/** The plain data of a file with this text, if cached. */
export function readParsedYaml(text: string): unknown {
  try {
    return JSON.parse(readFileSync(join(cacheDir(), `${keyOf(text)}.json`), 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** Keeps a file's plain data (when JSON gives it back unchanged); written under a temporary name and renamed, so a reader never sees half a file. */
export function writeParsedYaml(text: string, data: unknown): void {
  try {
    const json = JSON.stringify(data);
    if (json === undefined || !isDeepStrictEqual(JSON.parse(json), data)) return;
    const dir = cacheDir();
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${keyOf(text)}.json`);
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    writeFileSync(tmp, json);
    renameSync(tmp, file);
  } catch {
    // A read-only install: parse every time.
  }
}
