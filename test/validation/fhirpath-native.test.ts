/**
 * Compiled invariants (src/validation/fhirpath-native.ts) against @medplum/core's FHIRPath
 * engine, the reference: on plain and on odd JSON (primitive extensions, arrays where singles are
 * expected, nulls, empty values, wrong JSON types, choice types) a compiled invariant either gives
 * the engine's verdict or falls back to the engine; it never disagrees.
 */
import { evalFhirPathTyped, parseFhirPath, type TypedValue } from '@medplum/core';
import { compileNative, FALLBACK } from '../../src/validation/fhirpath-native';
import { Validator } from '../../src/validation';
import { Rng } from './support/mutate';

beforeAll(() => {
  // Registers the base types with @medplum/core, as validating resources of these types does.
  const { defs } = Validator.create();
  for (const type of ['Encounter', 'Location', 'Patient', 'Organization', 'ChargeItem', 'QuestionnaireResponse', 'Goal', 'Observation', 'CarePlan']) {
    defs.ensureType(type);
  }
});

function engineVerdict(expression: string, type: string, value: unknown): boolean | null {
  try {
    const typed: TypedValue = { type, value };
    const r = evalFhirPathTyped(parseFhirPath(expression), [typed], {
      '%context': typed,
      '%ucum': { type: 'string', value: 'http://unitsofmeasure.org' },
    });
    return !(r.length === 1 && r[0].value === false);
  } catch {
    return null;
  }
}

/** A contained Location, and one that itself contains a resource (dom-2's case). */
const LOCATION = { resourceType: 'Location', id: 'place', status: 'active', name: 'Clinic' };
const NESTED = { resourceType: 'Patient', id: 'p', contained: [{ resourceType: 'Organization', id: 'o', name: 'x' }] };

interface Row {
  type: string;
  expression: string;
  /** Plain values the compiled form must decide itself (no fallback). */
  plain: unknown[];
}

const ROWS: Row[] = [
  {
    type: 'Encounter',
    expression: 'contained.contained.empty()',
    plain: [{ status: 'finished' }, { contained: [LOCATION] }, { contained: [LOCATION, NESTED] }],
  },
  {
    type: 'Encounter',
    expression: 'contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()',
    plain: [{ status: 'finished' }, { contained: [LOCATION] }, { contained: [LOCATION, { ...LOCATION, meta: { versionId: '2' } }] }],
  },
  {
    type: 'Encounter',
    expression: 'contained.meta.security.empty()',
    plain: [{}, { contained: [LOCATION, { ...LOCATION, meta: { security: [{ code: 'R' }] } }] }],
  },
  {
    type: 'CodeableConcept',
    expression:
      "coding.where(code = 'H0038').all(system = 'http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets' or system = 'https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets')",
    plain: [
      { coding: [{ system: 'http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets', code: 'H0038' }] },
      { coding: [{ system: 'http://example.org', code: 'H0038' }] },
      {
        coding: [
          { system: 'http://example.org', code: 'X' },
          { system: 'https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets', code: 'H0038' },
        ],
      },
      { coding: [] },
      {},
    ],
  },
  {
    type: 'Encounter',
    expression: 'text.`div`.exists()',
    plain: [{}, { text: { status: 'generated', div: '<div>x</div>' } }, { text: { status: 'generated' } }],
  },
  {
    type: 'Encounter',
    expression: "status = 'finished' implies period.end.exists()",
    plain: [
      { status: 'finished', period: { start: '2024-01-01', end: '2024-01-02' } },
      { status: 'finished', period: { start: '2024-01-01' } },
      { status: 'planned' },
      {},
    ],
  },
  {
    type: 'ChargeItem',
    expression: 'quantity.value >= 1 and quantity.value <= 96',
    plain: [{ quantity: { value: 4 } }, { quantity: { value: 97 } }, { quantity: { value: 0 } }, {}],
  },
  {
    type: 'Quantity',
    expression: 'code.empty() or system.exists()',
    plain: [{ value: 1, code: 'min' }, { value: 1, code: 'min', system: 'http://unitsofmeasure.org' }, { value: 1 }],
  },
  {
    type: 'Duration',
    expression: 'code.exists() implies ((system = %ucum) and value.exists())',
    plain: [
      { value: 5, code: 'min', system: 'http://unitsofmeasure.org' },
      { value: 5, code: 'min', system: 'http://example.org' },
      { code: 'min', system: 'http://unitsofmeasure.org' },
      { value: 5 },
    ],
  },
  {
    type: 'QuestionnaireResponseItem',
    expression: '(answer.exists() and item.exists()).not()',
    plain: [{ linkId: 'a', answer: [{ valueInteger: 1 }] }, { linkId: 'a', answer: [{ valueInteger: 1 }], item: [{ linkId: 'b' }] }, { linkId: 'a' }],
  },
  {
    type: 'GoalTarget',
    expression: '(detail.exists() and measure.exists()) or detail.exists().not()',
    plain: [{ measure: { text: 'x' } }, { detailString: 'x' }, { detailString: 'x', measure: { text: 'x' } }],
  },
  {
    type: 'Observation',
    expression: 'dataAbsentReason.empty() or value.empty()',
    plain: [{ valueInteger: 3 }, { dataAbsentReason: { text: 'x' } }, { valueInteger: 3, dataAbsentReason: { text: 'x' } }],
  },
  {
    type: 'Observation',
    expression: 'value.exists() implies (value >= 23 and value <= 115)',
    plain: [{ valueInteger: 50 }, { valueInteger: 200 }, { valueQuantity: { value: 20 } }, {}],
  },
  {
    type: 'CarePlanActivity',
    expression: 'detail.empty() or reference.empty()',
    plain: [{ detail: { status: 'completed' } }, { reference: { reference: 'X/1' }, detail: { status: 'x' } }],
  },
  { type: 'Organization', expression: '(identifier.count() + name.count()) > 0', plain: [{ name: 'x' }, {}, { identifier: [{ value: '1' }, { value: '2' }] }] },
  {
    type: 'Extension',
    expression: 'extension.exists() != value.exists()',
    plain: [{ url: 'x', valueString: 'y' }, { url: 'x' }, { url: 'x', extension: [{ url: 'a', valueString: 'b' }], valueString: 'y' }],
  },
];

/** Odd variants of a plain value: every property replaced by odd JSON, or shadowed, or removed. */
function variants(value: unknown, rng: Rng): unknown[] {
  const odd: unknown[] = [
    null,
    '',
    ' ',
    0,
    1,
    2,
    true,
    false,
    [],
    {},
    [null],
    [undefined],
    [{}],
    ['x'],
    ['x', 'y'],
    [true],
    { value: 3 },
    { value: '3' },
    'finished',
    { toString: 'x' },
  ];
  const out: unknown[] = [value, {}, null, 'text', [value], []];
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const k of Object.keys(obj)) {
      for (const o of odd) {
        out.push({ ...obj, [k]: o });
      }
      out.push({ ...obj, ['_' + k]: { extension: [{ url: 'x', valueString: 'y' }] } });
      out.push({ ...obj, ['_' + k]: null });
      const rest = { ...obj };
      delete rest[k];
      out.push(rest);
    }
    for (const k of ['status', 'contained', 'text', 'resourceType', 'value', 'code', 'system', 'answer', 'item', 'quantity', 'detail', 'period']) {
      out.push({ ...obj, [k]: rng.pick(odd) });
    }
    out.push({ ...obj, contained: [{ resourceType: 'Patient', id: 'p', meta: { versionId: '1' } }] });
    out.push({ ...obj, resourceType: 'status' });
  }
  return out;
}

test.each(ROWS.map((r) => [r.type, r.expression, r] as const))('%s: %s decides like the engine or falls back', (_type, _expression, row) => {
  const native = compileNative(parseFhirPath(row.expression), row.type);
  expect(native).toBeDefined();
  const rng = new Rng(7);
  const disagreements: string[] = [];
  for (const plain of row.plain) {
    const v = native?.(plain);
    if (v === FALLBACK) {
      disagreements.push(`falls back on plain ${JSON.stringify(plain)}`);
    }
    for (const value of variants(plain, rng)) {
      const n = native?.(value);
      const e = engineVerdict(row.expression, row.type, value);
      if (n !== FALLBACK && n !== e) {
        disagreements.push(`${JSON.stringify(value)}: compiled ${String(n)}, engine ${String(e)}`);
      }
    }
  }
  expect(disagreements).toEqual([]);
});

test('expressions outside the compiled subset are left to the engine', () => {
  for (const expression of [
    'value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists()).empty()',
    "name.matches('[A-Z]([A-Za-z0-9_]){0,254}')",
    'type.select(code).isDistinct()',
    '%resource.type',
  ]) {
    expect(compileNative(parseFhirPath(expression), 'Observation')).toBeUndefined();
  }
});
