/**
 * `peerbridge package install <file.tgz>...` and `peerbridge package list`: the local FHIR package
 * cache (`~/.fhir/packages`, or the first folder in PEERBRIDGE_PACKAGE_CACHE), laid out as SUSHI and
 * the HL7 validator lay it out (`<name>#<version>/package`), so `--ig name#version` and IG_PACKAGES
 * find what was installed. Offline: installs from a file, never from a registry.
 */
import { installPackage, listCachedPackages, PackageError, packageCacheRoots } from '../validation/packages';

const USAGE = `Usage:
  peerbridge package install <file.tgz>...   copy FHIR packages into the package cache
  peerbridge package list [--format text|json]   the packages in the package cache
Package cache: PEERBRIDGE_PACKAGE_CACHE (':'-separated folders, first one installed into), then ~/.fhir/packages
`;

/** Runs `package`; returns the exit code (0 done, 1 a package could not be installed, 2 usage). */
export async function packageCommand(args: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'install') {
    const files = rest.filter((a) => !a.startsWith('-'));
    const unknown = rest.find((a) => a.startsWith('-'));
    if (unknown || files.length === 0) {
      err.write(`${unknown ? `Unknown option '${unknown}'` : 'Give at least one package file (.tgz) to install'}\n${USAGE}`);
      return 2;
    }
    let failed = false;
    for (const file of files) {
      try {
        const pkg = installPackage(file);
        out.write(`Installed ${pkg.name}#${pkg.version} into ${pkg.dir.replace(/[\\/]package$/, '')}\n`);
        const deps = Object.entries(pkg.dependencies).map(([n, v]) => `${n}#${v}`);
        if (deps.length > 0) {
          out.write(`  depends on ${deps.join(', ')}\n`);
        }
      } catch (e) {
        if (!(e instanceof PackageError)) throw e;
        err.write(`${e.message}\n`);
        failed = true;
      }
    }
    return failed ? 1 : 0;
  }
  if (sub === 'list') {
    let format = 'text';
    for (let i = 0; i < rest.length; i++) {
      const a = rest[i];
      if (a === '--format' || a.startsWith('--format=')) {
        format = a.includes('=') ? a.slice(a.indexOf('=') + 1) : (rest[++i] ?? '');
        if (format !== 'text' && format !== 'json') {
          err.write(`--format must be text or json, not '${format}'\n`);
          return 2;
        }
      } else {
        err.write(`Unknown option '${a}'\n${USAGE}`);
        return 2;
      }
    }
    const pkgs = listCachedPackages();
    if (format === 'json') {
      out.write(
        JSON.stringify(
          pkgs.map((p) => ({ name: p.name, version: p.version, canonical: p.canonical, title: p.title, dir: p.dir, dependencies: p.dependencies })),
        ) + '\n',
      );
      return 0;
    }
    for (const p of pkgs) {
      out.write(`${p.name}#${p.version}${p.title ? `  ${p.title}` : ''}\n`);
    }
    out.write(`${pkgs.length} package(s) in ${packageCacheRoots().join(', ')}\n`);
    return 0;
  }
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    out.write(USAGE);
    return 0;
  }
  err.write(`${sub ? `Unknown package command '${sub}'\n` : ''}${USAGE}`);
  return 2;
}
