#!/usr/bin/env node
'use strict';
/**
 * Makes the PGlite data-directory template (src/store/pglite-template.ts) for the installed PGlite
 * version, when it is not there yet: initdb once, here, so that the server's first start on an
 * empty DATA_DIR copies it instead of running initdb in the server process. Run by `npm run build`
 * (after tsc: it uses dist/) and by scripts/install-production.sh in the installed tree.
 *   node scripts/build-pglite-template.js
 */
const { join } = require('node:path');

const { ensurePgliteTemplate, pgliteTemplateDir } = require(join(__dirname, '..', 'dist', 'store', 'pglite-template'));

const t0 = Date.now();
ensurePgliteTemplate().then((dir) => {
  if (!dir) {
    console.error(`build-pglite-template: could not make ${pgliteTemplateDir()}; the server will run initdb itself on a new store`);
    process.exit(1);
  }
  console.log(`PGlite data-directory template: ${dir} (${Date.now() - t0} ms)`);
});
