/**
 * Jest transform for PGlite's CommonJS build: it loads Node built-ins with `import("fs")`, which
 * Jest's module sandbox refuses without --experimental-vm-modules. Rewriting those calls to
 * `require` (same modules, same promise shape) lets `npx jest` run PGlite as plain Node does.
 */
module.exports = {
  process(source) {
    // The bundle declares a local `var require` in the functions that do this, so keep the module's own.
    const code = source.replace(/\bimport\(("(?:node:)?[a-z/_]+")\)/g, 'Promise.resolve().then(() => __pgliteRequire($1))');
    return { code: `const __pgliteRequire = require;${code}` };
  },
  getCacheKey(source) {
    return require('node:crypto').createHash('sha1').update('pglite-cjs-2').update(source).digest('hex');
  },
};
