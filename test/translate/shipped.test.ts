/**
 * The mappings PeerBridge ships (mappings/README.md, "Shipped examples") hold together with their
 * sample exports: each loads, each sample file is read by a feed, each feed and message type has a
 * sample, each bad sample is described, and each code table is a valid ConceptMap.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { conceptMaps, feedFor, loadSource } from '../../src/translate';
import { Validator } from '../../src/validation';

const ROOT = join(__dirname, '..', '..');
const SHIPPED = ['riverbend-csv', 'hl7v2', 'vendor-json'];
const files = (dir: string) => readdirSync(dir).filter((n) => !n.startsWith('.') && statSync(join(dir, n)).isFile());

it('ships exactly the sources the mapping README lists', () => {
  const onDisk = readdirSync(join(ROOT, 'mappings')).filter((n) => n !== 'canonical' && statSync(join(ROOT, 'mappings', n)).isDirectory());
  expect(onDisk.sort()).toEqual([...SHIPPED].sort());
  const readme = readFileSync(join(ROOT, 'mappings', 'README.md'), 'utf8');
  for (const name of SHIPPED) expect(readme).toContain(`[\`${name}/\`](${name}/)`);
});

describe.each(SHIPPED)('mappings/%s', (name) => {
  const samples = join(ROOT, 'examples', 'outside', name);
  const source = loadSource(join(ROOT, 'mappings', name));

  it('loads, under its folder name, with a timezone and a system', () => {
    expect(source.name).toBe(name);
    expect(source.system).toMatch(/^https:\/\/[^/]+\.example\.(org|com)\/\S*[^/]$/);
    expect(source.timezone).toMatch(/^America\//);
    expect(source.feeds.length).toBeGreaterThan(0);
  });

  it('has sample exports, each read by a feed, and a sample for every feed', () => {
    const inputs = files(samples);
    expect(inputs.length).toBeGreaterThan(0);
    if (source.format === 'hl7v2') {
      const types = new Set(
        inputs.flatMap((f) =>
          [...readFileSync(join(samples, f), 'latin1').matchAll(/(?:^|[\r\n])MSH\|(?:[^|\r\n]*\|){7}([A-Z0-9]+\^[A-Z0-9]+)/g)].map((m) => m[1]),
        ),
      );
      expect(inputs.every((f) => f.endsWith('.hl7'))).toBe(true);
      for (const feed of source.feeds) for (const type of feed.match) expect([feed.name, type, types.has(type)]).toEqual([feed.name, type, true]);
    } else {
      for (const f of inputs) expect([f, feedFor(source, f)?.name !== undefined]).toEqual([f, true]);
      for (const feed of source.feeds) expect([feed.name, inputs.some((f) => feed.matches(f))]).toEqual([feed.name, true]);
    }
  });

  it('describes every bad sample in bad/README.md', () => {
    const bad = join(samples, 'bad');
    const readme = readFileSync(join(bad, 'README.md'), 'utf8');
    const described = [...readme.matchAll(/^- `([^`]+)`:/gm)].map((m) => m[1]).sort();
    expect(described).toEqual(
      files(bad)
        .filter((f) => f !== 'README.md')
        .sort(),
    );
  });

  it('has golden files for its samples', () => {
    expect(existsSync(join(samples, 'expected'))).toBe(true);
    expect(files(join(samples, 'expected')).some((f) => f.endsWith('.report.json'))).toBe(true);
  });

  it('serves each code table as a valid ConceptMap', () => {
    const maps = conceptMaps(source);
    expect(maps.map((m) => m.id).sort()).toEqual([...source.tables.keys()].map((t) => `${name}-${t}`).sort());
    const validator = Validator.create();
    for (const map of maps) {
      const errors = validator.validate(map).issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
      expect([map.id, errors]).toEqual([map.id, []]);
    }
  });
});
