'use strict';
/**
 * Child of bench/translate-compare.ts: translates one generated export with the compiled pipeline
 * of one checkout (`<root>/dist`, as `peerbridge translate` runs it), `runs` times in this process,
 * and prints one JSON line with each run's wall and CPU milliseconds. Plain JavaScript that uses
 * only what every checkout since the lookup port has had (translateSource, inputsFromPath,
 * loadSource, Validator, loadRules, loadPackageTerms), so an older commit can be measured beside
 * this one. Every resource made is serialised once (JSON.stringify), as writing a Bundle would.
 *
 * With `lookups` (this checkout only: the lookup port of issue 13), the runs resolve references
 * against a store (PipelineDeps `stored`: the port over an empty in-memory PGlite store, opened
 * before the runs, as a first load meets it) and each run says how many questions it asked.
 *
 * Usage: node bench/translate-compare-child.js <root> <riverbend-csv|hl7v2> <path> <runs> [lookups]
 */
const { join } = require('node:path');

async function main() {
  const [root, mapping, path, runsArg, mode] = process.argv.slice(2);
  const runs = Number(runsArg);
  const { translateSource, inputsFromPath } = require(join(root, 'dist/pipeline/translate-source.js'));
  const { loadSource } = require(join(root, 'dist/translate/index.js'));
  const { Validator, PROJECT_ROOT } = require(join(root, 'dist/validation/index.js'));
  const { loadRules } = require(join(root, 'dist/domain/rules.js'));
  const { loadPackageTerms } = require(join(root, 'dist/fhir/context.js'));
  const deps = { validator: Validator.create(), rules: loadRules(), terms: loadPackageTerms() };
  let asked = 0;
  let store;
  if (mode === 'lookups') {
    const { openStore } = require(join(root, 'dist/store/index.js'));
    const { storedRecords } = require(join(root, 'dist/store/stored-records.js'));
    store = await openStore({ memory: true });
    const port = storedRecords(store);
    deps.stored = Object.fromEntries(
      Object.keys(port).map((k) => [
        k,
        (...a) => {
          asked++;
          return port[k](...a);
        },
      ]),
    );
  }
  const source = loadSource(join(PROJECT_ROOT, 'mappings', mapping));
  const out = [];
  for (let i = 0; i < runs; i++) {
    let resources = 0;
    let chars = 0;
    asked = 0;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const report = await translateSource(
      source,
      inputsFromPath(path, source),
      deps,
      (made) => {
        for (const r of made) {
          chars += JSON.stringify(r).length;
          resources++;
        }
      },
      { onReject: () => undefined },
    );
    const cpu = process.cpuUsage(c0);
    out.push({
      ms: performance.now() - t0,
      cpuMs: (cpu.user + cpu.system) / 1000,
      read: report.records.read,
      rejected: report.records.rejected,
      resources,
      chars,
      lookups: asked,
    });
  }
  await store?.close();
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
