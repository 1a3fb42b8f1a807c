/**
 * Where mappings are: `mappings/` of the package (shipped sources), or any path a user gives, of a
 * mapping folder or a one-file mapping (`my-ehr.yaml`). `canonical` is the native format, not a mapping.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const MAPPINGS_DIR = join(__dirname, '..', '..', 'mappings');

/**
 * The folder of mappings a name is looked up in: `--mappings-dir`, else `MAPPINGS_DIR` of the
 * environment (as the server's), else the shipped mappings/.
 */
export function mappingsRoot(dir?: string): string {
  return dir ?? (process.env.MAPPINGS_DIR || MAPPINGS_DIR);
}

/** The mappings of a folder, by name: folders with a source.yaml and one-file mappings `<name>.yaml`. */
export function mappingNames(root: string = MAPPINGS_DIR): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .flatMap((n) => {
      if (n !== 'canonical' && existsSync(join(root, n, 'source.yaml'))) return [n];
      return n.endsWith('.yaml') && statSync(join(root, n)).isFile() ? [n.slice(0, -'.yaml'.length)] : [];
    })
    .sort();
}

/**
 * The folder or file of a mapping given by name, in `root` (a folder `<name>/` with a source.yaml,
 * or a one-file mapping `<name>.yaml`), or by path: a folder, or a .yaml file, which is loaded as
 * a one-file mapping (never its parent folder).
 */
export function resolveMapping(nameOrPath: string, root: string = MAPPINGS_DIR): string {
  if (/^[\w.-]+$/.test(nameOrPath)) {
    const folder = join(root, nameOrPath);
    if (existsSync(join(folder, 'source.yaml'))) return folder;
    const file = join(root, `${nameOrPath}.yaml`);
    if (!nameOrPath.endsWith('.yaml') && existsSync(file) && statSync(file).isFile()) return file;
  }
  const path = resolve(nameOrPath);
  if (existsSync(path) && (statSync(path).isDirectory() || /\.ya?ml$/.test(path))) return path;
  throw Object.assign(
    new Error(
      `Unknown mapping '${nameOrPath}': not a mapping of ${root} (${mappingNames(root).join(', ') || 'none'}: a folder <name>/ or a file <name>.yaml), a mapping folder path nor a one-file mapping (.yaml)`,
    ),
    { code: 'ENOENT' },
  );
}
