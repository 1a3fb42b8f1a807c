/**
 * Where mapping folders are: `mappings/` of the package (shipped sources), or any folder path a
 * user gives. `canonical` is the native format, not a mapping folder.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const MAPPINGS_DIR = join(__dirname, '..', '..', 'mappings');

/** The shipped sources: folders of mappings/ with a source.yaml. */
export function mappingNames(root: string = MAPPINGS_DIR): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((n) => n !== 'canonical' && existsSync(join(root, n, 'source.yaml')))
    .sort();
}

/** The folder of a mapping given by name (a folder of mappings/) or by path. */
export function resolveMapping(nameOrPath: string, root: string = MAPPINGS_DIR): string {
  const shipped = join(root, nameOrPath);
  if (/^[\w.-]+$/.test(nameOrPath) && existsSync(join(shipped, 'source.yaml'))) return shipped;
  const path = resolve(nameOrPath);
  if (existsSync(path) && statSync(path).isDirectory()) return path;
  if (existsSync(path) && /\.ya?ml$/.test(path)) return resolve(path, '..');
  throw Object.assign(new Error(`Unknown mapping '${nameOrPath}': not a folder under mappings/ (${mappingNames(root).join(', ') || 'none'}) nor a mapping folder path`), { code: 'ENOENT' });
}
