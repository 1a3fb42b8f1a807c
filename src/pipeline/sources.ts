/**
 * Where mappings are: `mappings/` of the package (shipped sources), or any path a user gives, of a
 * mapping folder or a one-file mapping (`my-ehr.yaml`). `canonical` is the native format, not a mapping.
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

/**
 * The folder or file of a mapping given by name (a folder of mappings/) or by path: a folder, or
 * a .yaml file, which is loaded as a one-file mapping (never its parent folder).
 */
export function resolveMapping(nameOrPath: string, root: string = MAPPINGS_DIR): string {
  const shipped = join(root, nameOrPath);
  if (/^[\w.-]+$/.test(nameOrPath) && existsSync(join(shipped, 'source.yaml'))) return shipped;
  const path = resolve(nameOrPath);
  if (existsSync(path) && (statSync(path).isDirectory() || /\.ya?ml$/.test(path))) return path;
  throw Object.assign(
    new Error(
      `Unknown mapping '${nameOrPath}': not a folder under mappings/ (${mappingNames(root).join(', ') || 'none'}), a mapping folder path nor a one-file mapping (.yaml)`,
    ),
    { code: 'ENOENT' },
  );
}
