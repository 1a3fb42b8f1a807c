/**
 * Mapping files are parsed once per content (src/translate/parsed-yaml-cache.ts): a second load
 * reads the cached plain data, gives the same mappings, and still names the line of a load error
 * (its tree parsed again from the text only then); a changed file is a new entry; data JSON
 * cannot give back unchanged is never cached.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sourceSignature } from '../../src/pipeline/pool';
import { loadSources } from '../../src/translate';
import { readParsedYaml, writeParsedYaml } from '../../src/translate/parsed-yaml-cache';
import { MappingLoadError } from '../../src/translate/types';
import { YamlFile } from '../../src/translate/yaml-file';

const MAPPINGS = join(__dirname, '..', '..', 'mappings');
let root: string;
const saved = process.env.PEERBRIDGE_CACHE_DIR;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'peerbridge-yaml-cache-'));
  // The cache sits beside the definitions cache: PEERBRIDGE_CACHE_DIR's parent.
  process.env.PEERBRIDGE_CACHE_DIR = join(root, 'definitions');
});
afterAll(() => {
  if (saved === undefined) delete process.env.PEERBRIDGE_CACHE_DIR;
  else process.env.PEERBRIDGE_CACHE_DIR = saved;
  rmSync(root, { recursive: true, force: true });
});

const cached = (): string[] => {
  try {
    return readdirSync(join(root, 'parsed-yaml'));
  } catch {
    return [];
  }
};

test('every shipped mapping loads the same from the cache as from its YAML', () => {
  expect(cached()).toEqual([]);
  const parsed = loadSources(MAPPINGS);
  const entries = cached().length;
  expect(entries).toBeGreaterThan(10);
  const fromCache = loadSources(MAPPINGS);
  expect(cached()).toHaveLength(entries);
  expect([...fromCache.keys()]).toEqual([...parsed.keys()]);
  for (const [name, source] of parsed) expect(sourceSignature(fromCache.get(name) ?? source)).toBe(sourceSignature(source));
});

test('a load error names the same line when the file comes from the cache', () => {
  const text = ['a: 1', 'b:', '  c: 02', '  d: [x, y]', ''].join('\n');
  const first = YamlFile.parse(text, 'f.yaml');
  expect(readParsedYaml(text)).toEqual({ a: 1, b: { c: '02', d: ['x', 'y'] } });
  const second = YamlFile.parse(text, 'f.yaml');
  expect(second.data).toEqual(first.data);
  const errorAt = (f: YamlFile): MappingLoadError => f.error(['b', 'd', 1], 'not allowed');
  expect(errorAt(second)).toMatchObject({ file: 'f.yaml', line: 4, field: 'b.d[1]' });
  expect(errorAt(second).message).toBe(errorAt(first).message);
});

test('a changed file is a new entry; YAML syntax errors are never cached', () => {
  const before = cached().length;
  YamlFile.parse('k: one\n', 'g.yaml');
  YamlFile.parse('k: two\n', 'g.yaml');
  expect(cached().length).toBe(before + 2);
  expect(() => YamlFile.parse('k: [unclosed\n', 'bad.yaml')).toThrow(MappingLoadError);
  expect(readParsedYaml('k: [unclosed\n')).toBeUndefined();
});

test('data JSON would change (.inf) is not cached', () => {
  const text = 'limit: .inf\n';
  expect(YamlFile.parse(text, 'h.yaml').data).toEqual({ limit: Infinity });
  expect(readParsedYaml(text)).toBeUndefined();
  writeParsedYaml('x: 1\n', { x: Number.NaN });
  expect(readParsedYaml('x: 1\n')).toBeUndefined();
  writeFileSync(join(root, 'parsed-yaml', 'unrelated.json'), '{');
  expect(YamlFile.parse(text, 'h.yaml').data).toEqual({ limit: Infinity });
});
