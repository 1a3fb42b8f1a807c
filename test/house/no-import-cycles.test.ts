/**
 * No import circles in src/ (issue 17; STYLE.md 1: "imports flow one way"). Reads every
 * src/**\/*.ts, takes the module specifiers of its import and export declarations, `import x =
 * require(..)` and `import(..)` calls, resolves the relative ones to files of src/, and fails naming
 * every circle found.
 *
 * Type-only imports (`import type`, `import { type X }`) count as edges too: TypeScript erases
 * them, so they cannot make a module see another half-initialized, but a circle of types still ties
 * two layers together and the issue asks for none; a type that both sides need belongs in a
 * types-only file below both.
 *
 * The same check runs on the folders of src/ (a file of `store/` importing one of `access/` is an
 * edge store -> access): folders are pipeline stages and imports between them flow one way
 * (STYLE.md 1), so two folders importing each other are a circle even when no two files are.
 *
 * Parsed with the TypeScript compiler already in devDependencies (no regex over comments and
 * strings); the graph walk is Tarjan's strongly connected components, written out here.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const ROOT = join(__dirname, '..', '..');
const SRC = join(ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return sourceFiles(path);
      return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
    });
}

/** Module specifiers a file imports or re-exports, type-only ones included. */
export function specifiers(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      out.push(node.moduleSpecifier.text);
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    ) {
      out.push(node.moduleReference.expression.text);
    } else if (ts.isCallExpression(node) && node.arguments.length === 1 && ts.isStringLiteral(node.arguments[0])) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) out.push(node.arguments[0].text);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      out.push(node.argument.literal.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** The file of src/ a relative specifier names (`./x` -> x.ts or x/index.ts), or undefined (a package, JSON, a missing file). */
function resolveRelative(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(from), spec);
  for (const candidate of [`${base}.ts`, join(base, 'index.ts'), base]) {
    if (candidate.endsWith('.ts') && existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

/** Import graph of src/: file -> files it imports (sorted, so a failure reads the same every run). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const targets = new Set<string>();
    for (const spec of specifiers(file, readFileSync(file, 'utf8'))) {
      const target = resolveRelative(file, spec);
      if (target !== undefined) targets.add(target);
    }
    graph.set(file, [...targets].sort());
  }
  return graph;
}

/** The graph between the top-level folders of src/ (a file directly in src/ is a node of its own). */
function folderGraph(graph: Map<string, string[]>): Map<string, string[]> {
  const folder = (file: string): string => join(SRC, relative(SRC, file).split('/')[0]);
  const folders = new Map<string, Set<string>>();
  for (const [file, targets] of graph) {
    const from = folder(file);
    const set = folders.get(from) ?? new Set<string>();
    folders.set(from, set);
    for (const t of targets) if (folder(t) !== from) set.add(folder(t));
  }
  return new Map([...folders].map(([k, v]) => [k, [...v].sort()]));
}

/** Which files make the folder edge `from -> to`. */
function edgeFiles(graph: Map<string, string[]>, from: string, to: string): string[] {
  const inside = (file: string, dir: string): boolean => file === dir || file.startsWith(`${dir}/`);
  return [...graph].flatMap(([file, targets]) =>
    inside(file, from) ? targets.filter((t) => inside(t, to)).map((t) => `${relative(SRC, file)} -> ${relative(SRC, t)}`) : [],
  );
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function circles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component);
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) connect(v);
  return found;
}

/** One circle through a component, as `a.ts -> b.ts -> a.ts` (shortest path back to its first file, breadth first). */
function describe_(graph: Map<string, string[]>, component: string[]): string {
  const members = new Set(component);
  const start = [...component].sort()[0];
  const previous = new Map<string, string>();
  const queue = [start];
  let last: string | undefined;
  while (queue.length && last === undefined) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        last = v;
        break;
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  const path = [start];
  for (let v = last; v !== undefined && v !== start; v = previous.get(v)) path.splice(1, 0, v);
  const name = (f: string): string => relative(SRC, f);
  const rest = component.length > path.length ? ` (component of ${component.length} files: ${[...component].sort().map(name).join(', ')})` : '';
  return [...path, start].map(name).join(' -> ') + rest;
}

describe('import graph of src/', () => {
  it('reads import and export declarations, type-only ones and dynamic imports included', () => {
    const text = [
      "import type { A } from './a';",
      "import { type B, c } from '../b';",
      "export { d } from './d';",
      "export * from './e';",
      "const f = import('./f');",
      "// import { g } from './g';",
      'const h = \'import x from "./h"\';',
    ].join('\n');
    expect(specifiers('x.ts', text)).toEqual(['./a', '../b', './d', './e', './f']);
  });

  it('has no circle (type-only imports counted)', () => {
    const graph = importGraph();
    expect(graph.size).toBeGreaterThan(50);
    expect(
      circles(graph)
        .map((c) => describe_(graph, c))
        .sort(),
    ).toEqual([]);
  });

  it('has no circle between the folders of src/ (type-only imports counted)', () => {
    const graph = importGraph();
    const folders = folderGraph(graph);
    const found = circles(folders).map((c) => {
      const cycle = describe_(folders, c);
      const steps = cycle.split(' (')[0].split(' -> ');
      const by = steps.slice(1).map((to, i) => `${steps[i]} -> ${to}: ${edgeFiles(graph, join(SRC, steps[i]), join(SRC, to)).join(', ')}`);
      return `${cycle} [${by.join('; ')}]`;
    });
    expect(found.sort()).toEqual([]);
  });
});
