#!/usr/bin/env node
'use strict';
/**
 * A small static site for the PeerBridge FHIR package, generated from profiles/package/ into
 * docs/ig/ (the HL7 IG Publisher needs the network and Java, so it cannot run here):
 *
 *   index.html                       the package: version, dependencies, every artifact by kind
 *   StructureDefinition-<id>.html     a profile or extension: metadata, the differential (what the
 *                                     profile changes), its constraints, and the snapshot elements
 *   ValueSet-<id>.html, CodeSystem-<id>.html, Questionnaire-<id>.html
 *   style.css
 *
 *   node scripts/build-ig-site.js           rewrite docs/ig/
 *   node scripts/build-ig-site.js --check   exit 1 listing the files of docs/ig/ that are stale
 *
 * The server serves docs/ig/ at /ig/ and profiles/package/ at /ig/package/ (src/http/ig-site.ts),
 * which the pages' "JSON" links point to. Output is deterministic: the same
 * package gives the same bytes. Plain CommonJS with Node built-ins only, like build-profiles.js.
 */
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const PACKAGE_DIR = path.join(ROOT, 'profiles', 'package');
const SITE_DIR = path.join(ROOT, 'docs', 'ig');
const CORE = 'http://hl7.org/fhir/R4';

// ---------------------------------------------------------------------------------------------
// HTML helpers
// ---------------------------------------------------------------------------------------------

function esc(value) {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function link(href, text) {
  return `<a href="${esc(href)}">${esc(text)}</a>`;
}

/** A table: headers and rows of cells that are already HTML. */
function table(headers, rows, className) {
  if (rows.length === 0) return '<p><em>None.</em></p>';
  const head = `<tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`;
  const body = rows.map((cells) => `<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table${className ? ` class="${className}"` : ''}>\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

/** Text with blank-line paragraphs (resource descriptions are markdown; shown as plain text). */
function paragraphs(text) {
  if (!text) return '';
  return String(text)
    .split(/\n\s*\n/)
    .map((p) => `<p>${esc(p.trim())}</p>`)
    .join('\n');
}

function page(title, body, pkg) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(title)} - ${esc(pkg.name)}#${esc(pkg.version)}</title>
<link rel="stylesheet" href="style.css">
</head>
<body>
<nav>${link('index.html', `${pkg.name}#${pkg.version}`)}</nav>
<h1>${esc(title)}</h1>
${body}
<footer>Generated from the FHIR package ${esc(pkg.name)}#${esc(pkg.version)} by scripts/build-ig-site.js. Do not edit: run <code>npm run build:ig</code>.</footer>
</body>
</html>
`;
}

const STYLE = `body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 80em; padding: 0 1em; color: #222; }
nav { margin-bottom: 1em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; width: 100%; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
td code, p code { font-size: 0.95em; }
table.meta th { width: 12em; }
.ms { font-weight: bold; color: #a00; }
.indent1 { padding-left: 1.5em; } .indent2 { padding-left: 3em; } .indent3 { padding-left: 4.5em; }
.indent4 { padding-left: 6em; } .indent5 { padding-left: 7.5em; }
footer { margin-top: 2em; font-size: 0.85em; color: #666; }
`;

// ---------------------------------------------------------------------------------------------
// The package
// ---------------------------------------------------------------------------------------------

function loadPackage(dir) {
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const resources = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json') && f !== 'package.json' && !f.startsWith('.'))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
  const byUrl = new Map(resources.filter((r) => r.url).map((r) => [r.url, r]));
  return { pkg, resources, byUrl };
}

function pageName(resource) {
  return `${resource.resourceType}-${resource.id}.html`;
}

/** A canonical as a link: to our page when the package defines it, else to the canonical URL. */
function canonicalLink(ctx, canonical) {
  const [url] = String(canonical).split('|');
  const ours = ctx.byUrl.get(url);
  if (ours) return link(pageName(ours), ours.title || ours.name || ours.id);
  const coreType = /^http:\/\/hl7\.org\/fhir\/StructureDefinition\/([A-Z][A-Za-z]+)$/.exec(url);
  if (coreType) return link(`${CORE}/${coreType[1].toLowerCase()}.html`, coreType[1]);
  return link(url, url.replace(/^https?:\/\/hl7\.org\/fhir\//, ''));
}

function metadataTable(resource, extraRows = []) {
  const rows = [
    ['Canonical URL', `<code>${esc(resource.url)}</code>`],
    ['Version', esc(resource.version)],
    ['Name', esc(resource.name)],
    ['Status', esc(resource.status) + (resource.experimental === false ? ' (not experimental)' : '')],
    ['Date', esc(resource.date)],
    ['Publisher', esc(resource.publisher)],
    ...extraRows,
    ['JSON', `${link(`package/${resource.resourceType}-${resource.id}.json`, `${resource.resourceType}-${resource.id}.json`)} in the package`],
  ].filter(([, v]) => v !== '');
  return `<table class="meta"><tbody>\n${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join('\n')}\n</tbody></table>`;
}

// ---------------------------------------------------------------------------------------------
// StructureDefinitions
// ---------------------------------------------------------------------------------------------

function cardinality(el) {
  if (el.min === undefined && el.max === undefined) return '';
  return `${el.min ?? ''}..${el.max ?? ''}`;
}

/** A type's FHIR name: primitive values' System types (`id`, `url`, ...) say theirs in an extension. */
function typeName(t) {
  if (!String(t.code).startsWith('http://hl7.org/fhirpath/System.')) return t.code;
  const fhirType = (t.extension || []).find((e) => e.url === 'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type');
  return fhirType ? fhirType.valueUrl || fhirType.valueUri : t.code.slice('http://hl7.org/fhirpath/System.'.length);
}

function typeCell(ctx, el) {
  return (el.type || [])
    .map((t) => {
      const targets = (t.targetProfile || []).map((p) => canonicalLink(ctx, p));
      const profiles = (t.profile || []).map((p) => canonicalLink(ctx, p));
      if (targets.length) return `${esc(t.code)}(${targets.join(' | ')})`;
      if (profiles.length) return `${esc(t.code)}(${profiles.join(' | ')})`;
      return esc(typeName(t));
    })
    .join(', ');
}

function bindingCell(ctx, el) {
  if (!el.binding || !el.binding.valueSet) return el.binding ? esc(el.binding.strength) : '';
  return `${esc(el.binding.strength)}: ${canonicalLink(ctx, el.binding.valueSet)}`;
}

/** fixed[x] / pattern[x] as compact JSON. */
function valueCell(el) {
  for (const key of Object.keys(el)) {
    if (/^(fixed|pattern)[A-Z]/.test(key)) {
      const kind = key.startsWith('fixed') ? 'fixed' : 'pattern';
      return `${kind}: <code>${esc(JSON.stringify(el[key]))}</code>`;
    }
  }
  return '';
}

/** Element id shown with its depth: `Encounter.type:h0038.coding` is three levels down. */
function elementCell(el) {
  const id = el.id || el.path;
  const depth = Math.min(5, id.split('.').length - 1);
  const cls = depth > 0 ? ` class="indent${depth}"` : '';
  return `<span${cls}><code>${esc(id)}</code></span>`;
}

/** Rows of element definitions; `snapshot` (by id) gives the full cardinality a differential element leaves partly unsaid. */
function elementRows(ctx, elements, snapshot) {
  const full = new Map((snapshot || []).map((e) => [e.id, e]));
  return elements.map((el) => [
    elementCell(el),
    esc(cardinality(full.get(el.id) || el)),
    typeCell(ctx, el),
    bindingCell(ctx, el),
    el.mustSupport ? '<span class="ms">S</span>' : '',
    valueCell(el),
    esc(el.short || ''),
  ]);
}

const ELEMENT_HEADERS = ['Element', 'Card.', 'Type', 'Binding', 'Must support', 'Fixed / pattern', 'Short description'];

/**
 * Snapshot elements worth a row: all but the id/extension/modifierExtension of nested elements,
 * unless the differential says something about them.
 */
function snapshotElements(sd) {
  const inDifferential = new Set((sd.differential?.element || []).map((e) => e.id));
  return (sd.snapshot?.element || []).filter((el) => {
    if (inDifferential.has(el.id)) return true;
    const parts = el.path.split('.');
    const last = parts[parts.length - 1];
    return !(parts.length > 2 && (last === 'id' || last === 'extension' || last === 'modifierExtension'));
  });
}

function constraintRows(sd) {
  const rows = [];
  for (const el of sd.differential?.element || []) {
    for (const c of el.constraint || []) {
      rows.push([`<code>${esc(c.key)}</code>`, `<code>${esc(el.id)}</code>`, esc(c.severity), esc(c.human), `<code>${esc(c.expression)}</code>`]);
    }
  }
  return rows;
}

function extensionValue(ctx, sd) {
  const value = (sd.snapshot?.element || []).find((e) => e.path === 'Extension.value[x]');
  if (!value) return '';
  const binding = bindingCell(ctx, value);
  return `${typeCell(ctx, value)}${binding ? ` (${binding})` : ''}`;
}

function extensionContext(sd) {
  return (sd.context || []).map((c) => `${esc(c.expression)} (${esc(c.type)})`).join(', ');
}

function structureDefinitionPage(ctx, sd) {
  const isExtension = sd.type === 'Extension';
  const extra = [
    ['Kind', isExtension ? 'Extension' : `Profile of ${esc(sd.type)}`],
    ['Base', canonicalLink(ctx, sd.baseDefinition)],
  ];
  if (isExtension) {
    extra.push(['Context of use', extensionContext(sd)], ['Value', extensionValue(ctx, sd)]);
  }
  const body = [
    paragraphs(sd.description),
    metadataTable(sd, extra),
    '<h2>Differential</h2>',
    '<p>The elements this definition constrains, relative to its base (cardinality as it results).</p>',
    table(ELEMENT_HEADERS, elementRows(ctx, sd.differential?.element || [], sd.snapshot?.element)),
    '<h2>Constraints</h2>',
    table(['Key', 'Element', 'Severity', 'Rule', 'FHIRPath'], constraintRows(sd)),
    '<h2>Elements (snapshot)</h2>',
    '<p>The full definition after the differential is applied to the base (nested <code>id</code>, <code>extension</code> and <code>modifierExtension</code> elements left out unless constrained). <span class="ms">S</span> = must support.</p>',
    table(ELEMENT_HEADERS, elementRows(ctx, snapshotElements(sd))),
  ];
  return page(sd.title || sd.name || sd.id, body.join('\n'), ctx.pkg);
}

// ---------------------------------------------------------------------------------------------
// Terminology
// ---------------------------------------------------------------------------------------------

function flattenConcepts(concepts, depth = 0, out = []) {
  for (const c of concepts || []) {
    out.push({ concept: c, depth });
    flattenConcepts(c.concept, depth + 1, out);
  }
  return out;
}

function propertyValue(p) {
  for (const key of Object.keys(p)) {
    if (key.startsWith('value')) return typeof p[key] === 'object' ? JSON.stringify(p[key]) : String(p[key]);
  }
  return '';
}

function codeSystemPage(ctx, cs) {
  const props = (cs.property || []).map((p) => p.code);
  const rows = flattenConcepts(cs.concept).map(({ concept, depth }) => [
    `<span${depth ? ` class="indent${Math.min(5, depth)}"` : ''}><code>${esc(concept.code)}</code></span>`,
    esc(concept.display),
    esc(concept.definition),
    ...props.map((code) =>
      esc(
        (concept.property || [])
          .filter((p) => p.code === code)
          .map(propertyValue)
          .join(', '),
      ),
    ),
  ]);
  const valueSets = ctx.resources.filter((r) => r.resourceType === 'ValueSet' && (r.compose?.include || []).some((i) => i.system === cs.url));
  const extra = [
    ['Content', esc(cs.content) + (cs.count !== undefined ? ` (${cs.count} concepts)` : '')],
    ['Case sensitive', esc(cs.caseSensitive)],
    ['Used by value sets', valueSets.map((vs) => link(pageName(vs), vs.title || vs.id)).join(', ')],
  ];
  const body = [paragraphs(cs.description), metadataTable(cs, extra), '<h2>Concepts</h2>', table(['Code', 'Display', 'Definition', ...props], rows)];
  return page(cs.title || cs.name || cs.id, body.join('\n'), ctx.pkg);
}

function systemLink(ctx, system) {
  const ours = ctx.byUrl.get(system);
  return ours ? link(pageName(ours), system) : `<code>${esc(system)}</code>`;
}

function composeRows(ctx, list) {
  return (list || []).map((inc) => {
    let content;
    if (inc.concept) {
      content = `<ul>${inc.concept.map((c) => `<li><code>${esc(c.code)}</code> ${esc(c.display || '')}</li>`).join('')}</ul>`;
    } else if (inc.filter) {
      content = inc.filter.map((f) => `<code>${esc(f.property)} ${esc(f.op)} ${esc(f.value)}</code>`).join(' and ');
    } else if (inc.valueSet) {
      content = `codes of ${inc.valueSet.map((v) => canonicalLink(ctx, v)).join(', ')}`;
    } else {
      content = 'all codes of the system';
    }
    return [inc.system ? systemLink(ctx, inc.system) + (inc.version ? ` version ${esc(inc.version)}` : '') : '', content];
  });
}

function valueSetPage(ctx, vs) {
  const body = [paragraphs(vs.description), metadataTable(vs), '<h2>Includes</h2>', table(['System', 'Codes'], composeRows(ctx, vs.compose?.include))];
  if (vs.compose?.exclude?.length) body.push('<h2>Excludes</h2>', table(['System', 'Codes'], composeRows(ctx, vs.compose.exclude)));
  return page(vs.title || vs.name || vs.id, body.join('\n'), ctx.pkg);
}

// ---------------------------------------------------------------------------------------------
// Questionnaires
// ---------------------------------------------------------------------------------------------

function answerText(value) {
  const key = Object.keys(value).find((k) => k.startsWith('value'));
  if (!key) return '';
  const v = value[key];
  if (key === 'valueCoding') return `${v.code}${v.display ? ` ${v.display}` : ''}`;
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function itemExtensions(item) {
  const notes = [];
  for (const ext of item.extension || []) {
    const name = ext.url.split('/').pop();
    if (name === 'questionnaire-maxOccurs') notes.push(`maxOccurs ${ext.valueInteger}`);
    else if (name === 'sdc-questionnaire-calculatedExpression') notes.push(`calculated: <code>${esc(ext.valueExpression?.expression)}</code>`);
    else notes.push(`extension <code>${esc(ext.url)}</code>`);
  }
  return notes;
}

function itemRows(ctx, items, depth = 0, out = []) {
  for (const item of items || []) {
    const flags = [item.required ? 'required' : '', item.repeats ? 'repeats' : '', item.readOnly ? 'read-only' : ''].filter(Boolean);
    const answers = [];
    if (item.answerValueSet) answers.push(`from ${canonicalLink(ctx, item.answerValueSet)}`);
    if (item.answerOption) {
      answers.push(
        `<ul>${item.answerOption
          .map((o) => {
            const ordinal = (o.extension || []).find((e) => e.url.endsWith('/ordinalValue'));
            return `<li>${esc(answerText(o))}${ordinal ? ` (ordinal ${esc(ordinal.valueDecimal)})` : ''}</li>`;
          })
          .join('')}</ul>`,
      );
    }
    const enableWhen = (item.enableWhen || []).map((w) => `<code>${esc(w.question)} ${esc(w.operator)} ${esc(answerText(pickAnswer(w)))}</code>`);
    const codes = (item.code || []).map((c) => `<code>${esc(c.code)}</code>`);
    out.push([
      `<span${depth ? ` class="indent${Math.min(5, depth)}"` : ''}><code>${esc(item.linkId)}</code></span>`,
      esc(item.text),
      esc(item.type),
      [...flags.map(esc), ...itemExtensions(item)].join('; '),
      answers.join(' '),
      [...enableWhen, ...(enableWhen.length > 1 ? [`(${esc(item.enableBehavior || 'all')})`] : [])].join(' '),
      codes.join(', '),
    ]);
    itemRows(ctx, item.item, depth + 1, out);
  }
  return out;
}

/** An enableWhen's answer[x] renamed to value[x], for answerText. */
function pickAnswer(enableWhen) {
  const out = {};
  for (const key of Object.keys(enableWhen)) {
    if (key.startsWith('answer')) out[`value${key.slice('answer'.length)}`] = enableWhen[key];
  }
  return out;
}

function questionnairePage(ctx, q) {
  const extra = [
    ['Subject type', esc((q.subjectType || []).join(', '))],
    ['Code', esc((q.code || []).map((c) => `${c.system}#${c.code}${c.display ? ` ${c.display}` : ''}`).join(', '))],
  ];
  const responses = ctx.resources.filter(
    (r) =>
      r.resourceType === 'StructureDefinition' &&
      (r.differential?.element || []).some((e) => e.path === 'QuestionnaireResponse.questionnaire' && JSON.stringify(e).includes(q.url)),
  );
  if (responses.length) extra.push(['Response profile', responses.map((r) => link(pageName(r), r.title || r.id)).join(', ')]);
  const body = [
    paragraphs(q.description),
    metadataTable(q, extra),
    '<h2>Items</h2>',
    table(['linkId', 'Text', 'Type', 'Flags', 'Answers', 'Enabled when', 'Code'], itemRows(ctx, q.item)),
  ];
  return page(q.title || q.name || q.id, body.join('\n'), ctx.pkg);
}

// ---------------------------------------------------------------------------------------------
// The index
// ---------------------------------------------------------------------------------------------

function indexPage(ctx) {
  const { pkg, resources } = ctx;
  const ig = resources.find((r) => r.resourceType === 'ImplementationGuide');
  const sds = resources.filter((r) => r.resourceType === 'StructureDefinition');
  const profiles = sds.filter((r) => r.type !== 'Extension');
  const extensions = sds.filter((r) => r.type === 'Extension');
  const of = (type) => resources.filter((r) => r.resourceType === type);
  const nameCell = (r) => link(pageName(r), r.id);
  const deps = Object.entries(pkg.dependencies || {}).map(([name, version]) => `<code>${esc(name)}#${esc(version)}</code>`);
  const dependsOn = (ig?.dependsOn || []).map((d) => `<code>${esc(d.packageId)}#${esc(d.version)}</code> (${esc(d.uri)})`);
  const body = [
    paragraphs(pkg.description),
    `<table class="meta"><tbody>
<tr><th>Package</th><td><code>${esc(pkg.name)}#${esc(pkg.version)}</code></td></tr>
<tr><th>FHIR version</th><td>${esc((pkg.fhirVersions || []).join(', '))}</td></tr>
<tr><th>Canonical base</th><td><code>${esc(pkg.canonical)}</code></td></tr>
<tr><th>Package dependencies</th><td>${deps.join(', ')}</td></tr>
<tr><th>ImplementationGuide.dependsOn</th><td>${dependsOn.join(', ') || 'none'}</td></tr>
<tr><th>License</th><td>${esc(pkg.license)}</td></tr>
</tbody></table>`,
    `<p>The package as a tarball: <code>npm run build:package</code> writes <code>build/${esc(pkg.name)}-${esc(pkg.version)}.tgz</code>. This site is generated from <code>profiles/package/</code>; the FSH sources are in <code>profiles/input/fsh/</code>.</p>`,
    '<h2>Profiles</h2>',
    table(
      ['Id', 'Title', 'Base', 'Description'],
      profiles.map((r) => [nameCell(r), esc(r.title), canonicalLink(ctx, r.baseDefinition), esc(r.description)]),
    ),
    '<h2>Extensions</h2>',
    table(
      ['Id', 'Title', 'Context', 'Value', 'Description'],
      extensions.map((r) => [nameCell(r), esc(r.title), extensionContext(r), extensionValue(ctx, r), esc(r.description)]),
    ),
    '<h2>Questionnaires</h2>',
    table(
      ['Id', 'Title', 'Description'],
      of('Questionnaire').map((r) => [nameCell(r), esc(r.title), esc(r.description)]),
    ),
    '<h2>Value sets</h2>',
    table(
      ['Id', 'Title', 'Description'],
      of('ValueSet').map((r) => [nameCell(r), esc(r.title), esc(r.description)]),
    ),
    '<h2>Code systems</h2>',
    table(
      ['Id', 'Title', 'Concepts', 'Description'],
      of('CodeSystem').map((r) => [nameCell(r), esc(r.title), esc(r.count ?? (r.concept || []).length), esc(r.description)]),
    ),
  ];
  return page(ig?.title || pkg.title || pkg.name, body.join('\n'), pkg);
}

// ---------------------------------------------------------------------------------------------

/** Map<filename, text> of the whole site. */
function buildSite(packageDir = PACKAGE_DIR) {
  const ctx = loadPackage(packageDir);
  const files = new Map();
  files.set('index.html', indexPage(ctx));
  files.set('style.css', STYLE);
  const pages = {
    StructureDefinition: structureDefinitionPage,
    ValueSet: valueSetPage,
    CodeSystem: codeSystemPage,
    Questionnaire: questionnairePage,
  };
  for (const resource of ctx.resources) {
    const render = pages[resource.resourceType];
    if (!render) continue;
    files.set(pageName(resource), render(ctx, resource));
  }
  return files;
}

function diffSite(dir, files) {
  const differing = [];
  const present = fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
  for (const name of present) {
    if (!files.has(name)) differing.push(`${name} (stale: not generated any more)`);
    else if (fs.readFileSync(path.join(dir, name), 'utf8') !== files.get(name)) differing.push(`${name} (content differs)`);
  }
  for (const name of [...files.keys()].sort()) {
    if (!present.includes(name)) differing.push(`${name} (missing: not committed)`);
  }
  return differing;
}

function writeSite(dir, files) {
  fs.mkdirSync(dir, { recursive: true });
  for (const entry of fs.readdirSync(dir)) {
    if (!files.has(entry)) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
  }
  for (const [name, text] of files) fs.writeFileSync(path.join(dir, name), text);
}

function main(argv) {
  const args = argv.slice(2);
  const unknown = args.filter((a) => a !== '--check');
  if (unknown.length) {
    console.error(`usage: build-ig-site.js [--check]   (unknown: ${unknown.join(' ')})`);
    return 2;
  }
  const files = buildSite();
  if (args.includes('--check')) {
    const differing = diffSite(SITE_DIR, files);
    if (differing.length) {
      console.error('build-ig-site --check: docs/ig/ is not what profiles/package/ builds to.');
      for (const d of differing) console.error(`  ${d}`);
      console.error('Run `npm run build:ig` and commit docs/ig/.');
      return 1;
    }
    console.log(`build-ig-site --check: docs/ig/ is up to date (${files.size} files)`);
    return 0;
  }
  writeSite(SITE_DIR, files);
  console.log(`build-ig-site: wrote ${files.size} files to ${path.relative(ROOT, SITE_DIR)}/`);
  return 0;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv);
  } catch (e) {
    console.error(`build-ig-site: ${e && e.stack ? e.stack : e}`);
    process.exitCode = 1;
  }
}

module.exports = { buildSite, diffSite };
