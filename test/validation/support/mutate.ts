/**
 * Seeded mutations of FHIR JSON, for the validator's equivalence corpus: each mutant breaks (or
 * merely changes) one to three things in a copy of a valid resource, so that the validator's error
 * paths (wrong JSON types, empty values, cardinality, slices, bindings, patterns, invariants,
 * references, extensions, narrative, contained resources) are all exercised, not only the happy path.
 * Reproducible: one seed, one sequence (no Math.random).
 */

type Json = Record<string, unknown>;
type Step = string | number;

/** sfc32, as in bench/workload.ts (kept separate so tests do not import bench/). */
export class Rng {
  private a = 0x9e3779b9;
  private b = 0x243f6a88;
  private c = 0xb7e15162;
  private d: number;

  constructor(seed: number) {
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) {
      this.next();
    }
  }

  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
}

interface Site {
  /** Steps from the root to the value. */
  path: Step[];
  value: unknown;
}

function sites(root: unknown): Site[] {
  const out: Site[] = [];
  const visit = (v: unknown, path: Step[]): void => {
    out.push({ path, value: v });
    if (Array.isArray(v)) {
      v.forEach((x, i) => visit(x, [...path, i]));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v as Json)) {
        visit(x, [...path, k]);
      }
    }
  };
  visit(root, []);
  return out;
}

function parentOf(root: unknown, path: Step[]): [Json | unknown[], Step] | undefined {
  if (path.length === 0) {
    return undefined;
  }
  let cur: unknown = root;
  for (const s of path.slice(0, -1)) {
    cur = (cur as Json)[s as string];
  }
  return [cur as Json | unknown[], path[path.length - 1]];
}

function set(root: unknown, path: Step[], value: unknown): void {
  const p = parentOf(root, path);
  if (p) {
    (p[0] as Json)[p[1] as string] = value;
  }
}

function remove(root: unknown, path: Step[]): void {
  const p = parentOf(root, path);
  if (!p) {
    return;
  }
  if (Array.isArray(p[0])) {
    p[0].splice(p[1] as number, 1);
  } else {
    delete p[0][p[1] as string];
  }
}

const XHTML = 'http://www.w3.org/1999/xhtml';
const STRANGE_STRINGS = [
  '',
  ' ',
  'a b',
  'x'.repeat(70),
  '2023-02-30',
  '2023-13-01',
  '2024-05-06T10:00:00',
  '2024-05-06T10:00:00Z',
  '2024-05',
  '2024',
  '10:61:00',
  'Patient/1',
  'Patient/x y',
  'Foo/1',
  '#missing',
  'urn:uuid:0f3c4e2a-1b2c-4d5e-8f90-123456789abc',
  'http://example.org/fhir/Patient/1',
  'finished',
  'in-progress',
  'planned',
  'active',
  'completed',
  'zzz',
  'male',
  'amended',
  'H0038',
  'AMB',
  'http://snomed.info/sct',
  'http://unitsofmeasure.org',
  'min',
  'h',
  'not a uri with spaces',
  'Zm9vYmFy',
  '<div>no namespace</div>',
  `<div xmlns="${XHTML}"><script>alert(1)</script></div>`,
  `<div xmlns="${XHTML}"><p>fine</p></div>`,
];
const STRANGE_VALUES: unknown[] = [null, true, false, 0, -1, 1.5, 200, 1e12, [], {}, [null], [{}], { foo: 1 }, 'text', ['text']];

/** Mutations; each returns false when it did not apply (the caller then tries another). */
type Mutation = (root: Json, rng: Rng, pool: Pool) => boolean;

/** Values seen anywhere in the corpus, to move plausible codes and systems between places. */
export interface Pool {
  strings: string[];
  objects: Json[];
}

export function buildPool(resources: unknown[], rng: Rng, max = 4000): Pool {
  const strings = new Set<string>();
  const objects: Json[] = [];
  for (const r of resources) {
    for (const s of sites(r)) {
      if (typeof s.value === 'string' && s.value.length < 120) {
        strings.add(s.value);
      } else if (s.value && typeof s.value === 'object' && !Array.isArray(s.value) && s.path.length > 0 && objects.length < max && rng.next() < 0.05) {
        objects.push(JSON.parse(JSON.stringify(s.value)) as Json);
      }
    }
  }
  return { strings: [...strings].slice(0, max), objects };
}

const pickSite = (root: Json, rng: Rng, filter: (s: Site) => boolean): Site | undefined => {
  const all = sites(root).filter((s) => s.path.length > 0 && filter(s));
  return all.length ? rng.pick(all) : undefined;
};

const MUTATIONS: Mutation[] = [
  // delete a property or array item
  (root, rng) => {
    const s = pickSite(root, rng, (x) => x.path[0] !== 'resourceType');
    return !!s && (remove(root, s.path), true);
  },
  // a leaf string becomes a strange string or a string from elsewhere
  (root, rng, pool) => {
    const s = pickSite(root, rng, (x) => typeof x.value === 'string' && x.path[0] !== 'resourceType');
    if (!s) return false;
    set(root, s.path, rng.next() < 0.5 ? rng.pick(STRANGE_STRINGS) : rng.pick(pool.strings));
    return true;
  },
  // any value becomes a value of another JSON type
  (root, rng) => {
    const s = pickSite(root, rng, () => true);
    if (!s) return false;
    set(root, s.path, JSON.parse(JSON.stringify(rng.pick(STRANGE_VALUES))));
    return true;
  },
  // numbers: out of range, not integers, strings
  (root, rng) => {
    const s = pickSite(root, rng, (x) => typeof x.value === 'number');
    if (!s) return false;
    set(root, s.path, rng.pick([0, -5, 1.25, 97, 150, 2 ** 31, '12', 1]));
    return true;
  },
  // wrap a single value in an array, or unwrap an array
  (root, rng) => {
    const s = pickSite(root, rng, (x) => typeof x.path[x.path.length - 1] === 'string');
    if (!s) return false;
    set(root, s.path, Array.isArray(s.value) ? s.value[0] : [s.value]);
    return true;
  },
  // empty an array or an object
  (root, rng) => {
    const s = pickSite(root, rng, (x) => x.value !== null && typeof x.value === 'object');
    if (!s) return false;
    set(root, s.path, Array.isArray(s.value) ? [] : {});
    return true;
  },
  // duplicate an array item
  (root, rng) => {
    const s = pickSite(root, rng, (x) => Array.isArray(x.value) && x.value.length > 0);
    if (!s) return false;
    const a = s.value as unknown[];
    a.push(JSON.parse(JSON.stringify(rng.pick(a))));
    return true;
  },
  // an unknown property, a shadow property, or a wrong choice type
  (root, rng) => {
    const s = pickSite(root, rng, (x) => !!x.value && typeof x.value === 'object' && !Array.isArray(x.value));
    const target = (s?.value as Json | undefined) ?? root;
    const keys = Object.keys(target);
    const k = keys.length ? rng.pick(keys) : 'id';
    switch (rng.int(0, 5)) {
      case 0:
        target.unknownThing = 1;
        break;
      case 1:
        target['_' + k] = { extension: [{ url: 'http://example.org/x', valueString: 'x' }] };
        break;
      case 2:
        target['_' + k] = rng.pick([null, [null], {}, { id: 'a' }, 'x']);
        break;
      case 3: {
        const m = /^(value|effective|onset|occurrence|deceased|multipleBirth|answer|timing|serviced|start|due|detail|outcome|product)[A-Z]/.exec(k);
        if (!m) return false;
        const v = target[k];
        delete target[k];
        target[m[1] + rng.pick(['String', 'Integer', 'Boolean', 'Coding', 'Quantity', 'Period', 'DateTime', 'Foo'])] = v;
        break;
      }
      case 4:
        target[k + 'X'] = target[k];
        break;
      default: {
        const m = /^(value|effective|answer)[A-Z]/.exec(k);
        target[(m ? m[1] : 'value') + 'String'] = 'second choice';
        break;
      }
    }
    return true;
  },
  // an object from elsewhere put here (wrong shape for the place, or a plausible one)
  (root, rng, pool) => {
    const s = pickSite(root, rng, (x) => !!x.value && typeof x.value === 'object' && !Array.isArray(x.value));
    if (!s || pool.objects.length === 0) return false;
    set(root, s.path, JSON.parse(JSON.stringify(rng.pick(pool.objects))));
    return true;
  },
  // resource-level: narrative, contained, meta.profile, extensions, id
  (root, rng, pool) => {
    switch (rng.int(0, 9)) {
      case 0:
        root.text = rng.pick([
          { status: 'generated', div: `<div xmlns="${XHTML}">Some text</div>` },
          { status: 'generated', div: `<div xmlns="${XHTML}"><a href="javascript:x()">x</a></div>` },
          { status: 'generated', div: '<div>no ns</div>' },
          { status: 'generated', div: `<div xmlns="${XHTML}">   </div>` },
          { status: 'bogus', div: `<div xmlns="${XHTML}"><p onclick="x">t</p></div>` },
          { status: 'generated' },
          'a string',
        ]);
        return true;
      case 1:
        root.contained = [{ resourceType: 'Practitioner', id: 'c1', name: [{ family: 'Contained' }] }];
        if (rng.next() < 0.5) {
          root.extension = [...(Array.isArray(root.extension) ? root.extension : []), { url: 'http://example.org/ref', valueReference: { reference: '#c1' } }];
        }
        return true;
      case 2:
        root.contained = [
          { resourceType: 'Patient', id: 'p1', contained: [{ resourceType: 'Patient', id: 'p2' }], meta: { versionId: '1', security: [{ code: 'R' }] } },
        ];
        return true;
      case 3:
        root.meta = { profile: [rng.pick(pool.strings.filter((x) => x.includes('StructureDefinition')).concat(['http://example.org/unknown-profile']))] };
        return true;
      case 4:
        root.extension = [
          ...(Array.isArray(root.extension) ? root.extension : []),
          rng.pick([
            { url: 'http://peerbridge.org/fhir/StructureDefinition/no-such-extension', valueString: 'x' },
            { url: 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace', valueAddress: { city: 'Boise' } },
            { url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' },
            { url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueString: 'unknown' },
            { url: 'http://example.org/other', extension: [{ url: 'a', valueString: 'b' }], valueString: 'both' },
            { url: 'http://example.org/empty' },
            { valueString: 'no url' },
          ]),
        ];
        return true;
      case 5:
        root.id = rng.pick(['a b', 'x'.repeat(65), 'ok-id.1', '', 7]);
        return true;
      case 6:
        root.modifierExtension = [{ url: 'http://example.org/mod', valueBoolean: true }];
        return true;
      case 7:
        root.implicitRules = 'http://example.org/rules';
        root.language = rng.pick(['en-US', 'xx', 'en']);
        return true;
      case 8:
        root.resourceType = rng.pick(['Patient', 'Encounter', 'Nope', 'Observation', 7]);
        return true;
      default:
        root.contained = [
          { resourceType: 'Organization', id: 'o1', name: 'Org' },
          { resourceType: 'Organization', id: 'o1' },
        ];
        root.extension = [{ url: 'http://example.org/ref', valueReference: { reference: '#o1' } }];
        return true;
    }
  },
];

/** A mutated copy of `resource` (1 to 3 mutations). */
export function mutate(resource: unknown, rng: Rng, pool: Pool): Json {
  const copy = JSON.parse(JSON.stringify(resource)) as Json;
  const n = rng.int(1, 3);
  let done = 0;
  for (let tries = 0; done < n && tries < 20; tries++) {
    if (rng.pick(MUTATIONS)(copy, rng, pool)) {
      done++;
    }
  }
  return copy;
}
