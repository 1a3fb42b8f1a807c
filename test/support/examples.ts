/** The example files as fixtures. */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const VALID_DIR = join(__dirname, '..', '..', 'examples', 'valid');

export function readExample<T extends Resource = Resource>(file: string): T {
  return JSON.parse(readFileSync(join(VALID_DIR, file), 'utf8')) as T;
}

/** Every single-resource example in examples/valid (the transaction Bundle left out). */
export function validResources(): Resource[] {
  return readdirSync(VALID_DIR)
    .filter((f) => f.endsWith('.json') && !f.startsWith('Bundle-'))
    .sort()
    .map((f) => readExample(f));
}

export const episodeBundle = (): Bundle => readExample<Bundle>('Bundle-peer-support-episode.json');
