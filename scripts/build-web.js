#!/usr/bin/env node
'use strict';
/**
 * Builds the web console (web/, issue 14) into dist/web/ with esbuild:
 *
 *   dist/web/index.html               the one page shell (no inline script or style), naming the hashed files
 *   dist/web/assets/main-<hash>.js    the console (routing, pages, API calls): loaded first
 *   dist/web/assets/main-<hash>.css   its stylesheet
 *   dist/web/assets/chunk-<hash>.js   split chunks; the editor (CodeMirror 6) is one, loaded by /validate only
 *   dist/web/manifest.json            the files and their sizes (raw and gzip), for the first-load figure
 *
 *   node scripts/build-web.js [--out <dir>]
 *
 * Run by `npm run build` (so `npm install` / `npm ci` builds it, like dist/). src/http/console.ts
 * serves it: the hashed assets with a year's cache, index.html with no-cache. Offline: everything
 * is bundled, nothing comes from a CDN.
 */
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const ROOT = path.resolve(__dirname, '..');
const DEFAULT_OUT = path.join(ROOT, 'dist', 'web');

/** Builds the console into `outDir` (emptied first); returns the manifest. */
async function buildWeb(outDir = DEFAULT_OUT) {
  const esbuild = require('esbuild');
  fs.rmSync(outDir, { recursive: true, force: true });
  const assets = path.join(outDir, 'assets');
  const result = await esbuild.build({
    entryPoints: { main: path.join(ROOT, 'web', 'src', 'main.ts') },
    bundle: true,
    splitting: true,
    format: 'esm',
    target: ['es2020'],
    minify: true,
    sourcemap: false,
    outdir: assets,
    entryNames: '[name]-[hash]',
    chunkNames: 'chunk-[hash]',
    assetNames: '[name]-[hash]',
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const outputs = Object.entries(result.metafile.outputs).map(([file, meta]) => ({ file: path.relative(assets, path.resolve(ROOT, file)), meta }));
  const main = outputs.find((o) => o.meta.entryPoint && o.file.endsWith('.js'));
  const css = outputs.find((o) => o.file.endsWith('.css'));
  if (!main || !css) throw new Error('build-web: esbuild wrote no main script or stylesheet');
  // The editor: the chunks holding CodeMirror, which only /validate loads (after the page is drawn).
  const files = outputs.map(({ file, meta }) => {
    const bytes = fs.readFileSync(path.join(assets, file));
    const editor = Object.keys(meta.inputs).some((i) => /node_modules\/(@codemirror|codemirror)\//.test(i));
    return { file, bytes: bytes.length, gzip: zlib.gzipSync(bytes, { level: 9 }).length, ...(editor ? { editor } : {}) };
  });
  // Files fetched before the editor: the shell's script and stylesheet and the chunks the script imports statically.
  const eager = new Set([main.file, css.file]);
  for (const imp of main.meta.imports) if (imp.kind === 'import-statement') eager.add(path.relative(assets, path.resolve(ROOT, imp.path)));
  const manifest = { main: main.file, css: css.file, eager: [...eager].sort(), files };
  fs.writeFileSync(path.join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  fs.writeFileSync(path.join(outDir, 'index.html'), indexHtml(manifest));
  return manifest;
}

function indexHtml(m) {
  const preload = m.eager.filter((f) => f !== m.main && f.endsWith('.js')).map((f) => `    <link rel="modulepreload" href="/console/assets/${f}">\n`);
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>PeerBridge console</title>
    <meta name="pb-style-nonce" content="__PB_STYLE_NONCE__">
    <link rel="stylesheet" href="/console/assets/${m.css}">
${preload.join('')}    <script type="module" src="/console/assets/${m.main}"></script>
  </head>
  <body>
    <noscript>The PeerBridge console needs JavaScript. The FHIR API is at /fhir.</noscript>
    <div id="app"></div>
  </body>
</html>
`;
}

module.exports = { buildWeb, DEFAULT_OUT };

if (require.main === module) {
  const at = process.argv.indexOf('--out');
  const out = at > 0 ? path.resolve(process.argv[at + 1]) : DEFAULT_OUT;
  buildWeb(out).then(
    (m) => {
      const kb = (files) => (files.reduce((n, f) => n + f.gzip, 0) / 1024).toFixed(1);
      const shell = kb(m.files.filter((f) => m.eager.includes(f.file)));
      const editor = kb(m.files.filter((f) => f.editor));
      console.log(
        `web console built in ${path.relative(ROOT, out) || '.'}: shell ${shell} kB gzip (each page adds its chunk), editor ${editor} kB gzip (/validate only)`,
      );
    },
    (e) => {
      console.error(e instanceof Error ? e.message : String(e));
      process.exit(1);
    },
  );
}
