/**
 * A small reader for the tar archives FHIR packages ship as (`.tgz`: gzip over a POSIX ustar
 * archive, https://pubs.opengroup.org/onlinepubs/9699919799/utilities/pax.html#tag_20_92_13_06),
 * enough for what package publishers write: regular files, directories, GNU long names (`L`) and
 * pax `path` records (`x`). Links, devices and anything else are skipped; so is any name that is
 * absolute or climbs out with `..`, so an archive can never write outside its target folder.
 */
import { gunzipSync } from 'node:zlib';

export interface TarEntry {
  /** Path inside the archive, `/`-separated, never absolute, never with `..`. */
  path: string;
  data: Buffer;
}

const BLOCK = 512;

/** Raised for an archive that is not gzip + tar or is cut short. */
export class TarError extends Error {}

/** The files of a `.tgz` (or plain `.tar` when not gzipped). */
export function readTgz(bytes: Buffer): TarEntry[] {
  let tar: Buffer;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      tar = gunzipSync(bytes);
    } catch (e) {
      throw new TarError(`Not a readable gzip file: ${(e as Error).message}`);
    }
  } else {
    tar = bytes;
  }
  return readTar(tar);
}

/** The regular files of a tar archive. */
export function readTar(tar: Buffer): TarEntry[] {
  const out: TarEntry[] = [];
  if (tar.length < BLOCK) {
    throw new TarError(`Not a tar archive (${tar.length} bytes, shorter than one header)`);
  }
  let offset = 0;
  let longName: string | undefined;
  let paxPath: string | undefined;
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) {
      break; // end-of-archive marker
    }
    if (!checksumOk(header)) {
      throw new TarError(`Not a tar archive (bad header checksum at byte ${offset})`);
    }
    const size = parseOctal(header.subarray(124, 136));
    const type = String.fromCharCode(header[156] || 0x30);
    const dataStart = offset + BLOCK;
    const dataEnd = dataStart + size;
    if (dataEnd > tar.length) {
      throw new TarError('Tar archive is cut short');
    }
    const data = tar.subarray(dataStart, dataEnd);
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'L') {
      longName = cString(data);
      continue;
    }
    if (type === 'x') {
      paxPath = paxRecord(data, 'path') ?? paxPath;
      continue;
    }
    if (type === 'g') {
      continue;
    }
    const prefix = cString(header.subarray(345, 500));
    const name = paxPath ?? longName ?? (prefix ? `${prefix}/${cString(header.subarray(0, 100))}` : cString(header.subarray(0, 100)));
    longName = undefined;
    paxPath = undefined;
    if (type !== '0' && type !== '7') {
      continue; // directories are implied by file paths; links and devices are not package content
    }
    const path = safePath(name);
    if (path) {
      out.push({ path, data: Buffer.from(data) });
    }
  }
  return out;
}

function checksumOk(header: Buffer): boolean {
  const stored = parseOctal(header.subarray(148, 156));
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) {
    sum += i >= 148 && i < 156 ? 0x20 : header[i];
  }
  return sum === stored;
}

function parseOctal(field: Buffer): number {
  const s = cString(field).trim();
  return s ? parseInt(s, 8) : 0;
}

function cString(b: Buffer): string {
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? b.length : end).toString('utf8');
}

/** A pax extended header's value for `key` (records are `<len> key=value\n`). */
function paxRecord(data: Buffer, key: string): string | undefined {
  const text = data.toString('utf8');
  for (const line of text.split('\n')) {
    const m = /^\d+ ([^=]+)=(.*)$/.exec(line);
    if (m && m[1] === key) {
      return m[2];
    }
  }
  return undefined;
}

/** A relative, normalised path, or undefined for anything that would leave the target folder. */
export function safePath(name: string): string | undefined {
  const parts = name
    .replace(/\\/g, '/')
    .split('/')
    .filter((p) => p && p !== '.');
  if (name.startsWith('/') || parts.length === 0 || parts.some((p) => p === '..' || p.includes('\0'))) {
    return undefined;
  }
  return parts.join('/');
}
