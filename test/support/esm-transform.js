/**
 * Jest transform for ESM-only packages used by tests (fhir-kit-client 2 ships `import` only):
 * TypeScript's transpiler turns their `import`/`export` into CommonJS, as Jest runs tests.
 */
const ts = require('typescript');

module.exports = {
  process(source, filename) {
    const out = ts.transpileModule(source, {
      fileName: filename,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, allowJs: true, sourceMap: false },
    });
    return { code: out.outputText };
  },
  getCacheKey(source, filename) {
    return require('node:crypto').createHash('sha1').update('esm-transform-1').update(filename).update(source).digest('hex');
  },
};
