/**
 * `ConceptMap/$translate` (src/fhir-api/translate.ts) through the route table, over ConceptMaps in
 * the store, on both drivers: mapped codes, unmapped fallbacks, reverse, no match, map selection
 * by id, url, version and system, and the 400/404 answers.
 */
import type { CapabilityStatement, ConceptMap, OperationOutcome, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { fhirRouter, type FhirDeps, type FhirRequest, type FhirResponse } from '../../src/fhir-api';
import { translateRoutes, TRANSLATE_OPERATION } from '../../src/fhir-api/translate';
import { capabilityStatement } from '../../src/http/capability';
import { FhirError } from '../../src/outcomes';
import { Validator } from '../../src/validation';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';

const BASE = 'http://test.local/fhir';
const RB = 'https://ehr.riverbend.example.org/peer/codes/contact-type';
const MODE = 'http://peerbridge.org/fhir/CodeSystem/contact-mode';
const SETTING_SRC = 'https://ehr.riverbend.example.org/peer/codes/setting';
const SETTING = 'http://peerbridge.org/fhir/CodeSystem/setting';
const OTHER = 'http://example.org/fhir/CodeSystem/vendor-mode';
const MODE_URL = 'http://peerbridge.org/fhir/ConceptMap/riverbend-csv-contact-mode';
const SETTING_URL = 'http://peerbridge.org/fhir/ConceptMap/riverbend-csv-setting';

function contactMode(version: string, f2f: string): ConceptMap {
  return {
    resourceType: 'ConceptMap',
    id: `riverbend-csv-contact-mode-${version}`,
    url: MODE_URL,
    version,
    status: 'active',
    sourceUri: 'http://example.org/ValueSet/riverbend-contact-type',
    targetUri: 'http://peerbridge.org/fhir/ValueSet/contact-mode',
    group: [
      {
        source: RB,
        target: MODE,
        element: [
          { code: 'F2F', display: 'Face to face', target: [{ code: f2f, display: 'In person', equivalence: 'equivalent' }] },
          { code: 'PH', target: [{ code: 'telephone', equivalence: 'equivalent' }] },
          { code: 'TH', target: [{ code: 'video', equivalence: 'wider' }] },
          { code: 'AV', target: [{ code: 'video', equivalence: 'narrower' }] },
          { code: 'NA', target: [{ equivalence: 'unmatched', comment: 'not a contact' }] },
        ],
        unmapped: { mode: 'fixed', code: 'other', display: 'Other' },
      },
    ],
  };
}

const setting: ConceptMap = {
  resourceType: 'ConceptMap',
  id: 'riverbend-csv-setting',
  url: SETTING_URL,
  status: 'active',
  group: [
    { source: SETTING_SRC, target: SETTING, element: [{ code: 'CLINIC', target: [{ code: 'clinic', equivalence: 'equal' }] }], unmapped: { mode: 'provided' } },
    // A second map for the contact-type system, to another target system.
    { source: RB, target: OTHER, element: [{ code: 'F2F', target: [{ code: 'F', equivalence: 'equivalent' }] }] },
  ],
};

const chained: ConceptMap = {
  resourceType: 'ConceptMap',
  id: 'chained',
  url: 'http://example.org/ConceptMap/chained',
  status: 'active',
  group: [
    {
      source: SETTING_SRC,
      target: SETTING,
      element: [{ code: 'HOME', target: [{ code: 'home', equivalence: 'equivalent' }] }],
      unmapped: { mode: 'other-map', url: SETTING_URL },
    },
  ],
};

const params = (...parameter: ParametersParameter[]): Parameters => ({ resourceType: 'Parameters', parameter });
const str = (name: string, value: string): ParametersParameter => ({ name, valueString: value });
const uri = (name: string, value: string): ParametersParameter => ({ name, valueUri: value });
const code = (value: string): ParametersParameter => ({ name: 'code', valueCode: value });

/** The matches as `equivalence system|code <- source`. */
function matches(p: Parameters): string[] {
  return (p.parameter ?? [])
    .filter((x) => x.name === 'match')
    .map((m) => {
      const part = (n: string) => m.part?.find((x) => x.name === n);
      const c = part('concept')?.valueCoding;
      return `${part('equivalence')?.valueCode} ${c ? `${c.system}|${c.code}` : '-'} <- ${part('source')?.valueUri}`;
    });
}
const result = (p: Parameters): boolean | undefined => p.parameter?.find((x) => x.name === 'result')?.valueBoolean;
const message = (p: Parameters): string | undefined => p.parameter?.find((x) => x.name === 'message')?.valueString;

const router = fhirRouter(translateRoutes());
let validator: Validator;
beforeAll(() => {
  validator = Validator.create();
});

test('$translate is in the CapabilityStatement once, on ConceptMap', () => {
  const cs: CapabilityStatement = capabilityStatement(validator, BASE, router.routes);
  const cm = cs.rest?.[0].resource?.find((r) => r.type === 'ConceptMap');
  expect(cm?.operation?.filter((o) => o.name === 'translate')).toEqual([{ name: 'translate', definition: TRANSLATE_OPERATION }]);
  expect(cs.rest?.[0].resource?.find((r) => r.type === 'Patient')?.operation?.some((o) => o.name === 'translate')).toBeFalsy();
});

describe.each(DRIVERS)('ConceptMap $translate on %s', (driver) => {
  let store: TestStore;
  let deps: FhirDeps;
  beforeAll(async () => {
    store = await openTestStore(driver);
    deps = { repo: store.repo, validator };
    for (const cm of [contactMode('1', 'in-person-v1'), contactMode('2', 'in-person'), setting, chained]) {
      await store.repo.update(cm);
    }
  });
  afterAll(() => store?.close());

  async function call(method: FhirRequest['method'], url: string, body?: unknown): Promise<FhirResponse> {
    const [path, qs] = url.split('?');
    const query: FhirRequest['query'] = {};
    for (const [k, v] of new URLSearchParams(qs ?? '')) {
      const prev = query[k];
      query[k] = prev === undefined ? v : [...[prev].flat(), v];
    }
    try {
      return await router.handle({ method, path, query, headers: {}, body, baseUrl: BASE }, deps);
    } catch (e) {
      if (e instanceof FhirError) return { status: e.status, body: e.outcome };
      throw e;
    }
  }
  const ok = async (method: FhirRequest['method'], url: string, body?: unknown): Promise<Parameters> => {
    const res = await call(method, url, body);
    expect(res.status).toBe(200);
    expect(res.body?.resourceType).toBe('Parameters');
    return res.body as Parameters;
  };
  const error = async (status: number, method: FhirRequest['method'], url: string, body?: unknown): Promise<string> => {
    const res = await call(method, url, body);
    expect(res.status).toBe(status);
    return ((res.body as OperationOutcome).issue ?? []).map((i) => i.details?.text).join(' | ');
  };

  test('a mapped code, by url: the highest version unless conceptMapVersion names one', async () => {
    const p = await ok('POST', '/ConceptMap/$translate', params(uri('url', MODE_URL), uri('system', RB), code('F2F')));
    expect(result(p)).toBe(true);
    expect(message(p)).toBeUndefined();
    expect(p.parameter?.find((x) => x.name === 'match')).toEqual({
      name: 'match',
      part: [
        { name: 'equivalence', valueCode: 'equivalent' },
        { name: 'concept', valueCoding: { system: MODE, code: 'in-person', display: 'In person' } },
        { name: 'source', valueUri: MODE_URL },
      ],
    });
    const v1 = await ok('POST', '/ConceptMap/$translate', params(uri('url', MODE_URL), str('conceptMapVersion', '1'), uri('system', RB), code('F2F')));
    expect(matches(v1)).toEqual([`equivalent ${MODE}|in-person-v1 <- ${MODE_URL}`]);
    expect(matches(await ok('GET', `/ConceptMap/$translate?url=${encodeURIComponent(`${MODE_URL}|1`)}&system=${encodeURIComponent(RB)}&code=F2F`))).toEqual([
      `equivalent ${MODE}|in-person-v1 <- ${MODE_URL}`,
    ]);
  });

  test('the instance route, GET and POST; a coding and a codeableConcept', async () => {
    const byId = await ok('GET', `/ConceptMap/riverbend-csv-contact-mode-2/$translate?system=${encodeURIComponent(RB)}&code=TH`);
    expect(matches(byId)).toEqual([`wider ${MODE}|video <- ${MODE_URL}`]);
    const coding = await ok('POST', '/ConceptMap/riverbend-csv-contact-mode-2/$translate', params({ name: 'coding', valueCoding: { system: RB, code: 'PH' } }));
    expect(matches(coding)).toEqual([`equivalent ${MODE}|telephone <- ${MODE_URL}`]);
    const cc = await ok(
      'POST',
      '/ConceptMap/riverbend-csv-contact-mode-2/$translate',
      params({
        name: 'codeableConcept',
        valueCodeableConcept: {
          coding: [
            { system: RB, code: 'PH' },
            { system: RB, code: 'TH' },
          ],
        },
      }),
    );
    expect(matches(cc)).toEqual([`equivalent ${MODE}|telephone <- ${MODE_URL}`, `wider ${MODE}|video <- ${MODE_URL}`]);
  });

  test('with only system and code: every map with a group for the system; targetsystem narrows', async () => {
    const all = await ok('POST', '/ConceptMap/$translate', params(uri('system', RB), code('F2F')));
    expect(matches(all).sort()).toEqual(
      [`equivalent ${MODE}|in-person <- ${MODE_URL}`, `equivalent ${MODE}|in-person-v1 <- ${MODE_URL}`, `equivalent ${OTHER}|F <- ${SETTING_URL}`].sort(),
    );
    const other = await ok('GET', `/ConceptMap/$translate?system=${encodeURIComponent(RB)}&code=F2F&targetsystem=${encodeURIComponent(OTHER)}`);
    expect(matches(other)).toEqual([`equivalent ${OTHER}|F <- ${SETTING_URL}`]);
    const bySource = await ok(
      'POST',
      '/ConceptMap/$translate',
      params(
        uri('system', RB),
        code('F2F'),
        uri('source', 'http://example.org/ValueSet/riverbend-contact-type'),
        uri('target', 'http://peerbridge.org/fhir/ValueSet/contact-mode'),
      ),
    );
    expect(matches(bySource).sort()).toEqual([`equivalent ${MODE}|in-person <- ${MODE_URL}`, `equivalent ${MODE}|in-person-v1 <- ${MODE_URL}`].sort());
  });

  test('unmapped fallbacks: fixed (inexact), provided (equal), other-map; an unmatched element is not unmapped', async () => {
    const fixed = await ok('POST', '/ConceptMap/riverbend-csv-contact-mode-2/$translate', params(uri('system', RB), code('ZZ')));
    expect(result(fixed)).toBe(true);
    expect(fixed.parameter?.find((x) => x.name === 'match')?.part).toEqual([
      { name: 'equivalence', valueCode: 'inexact' },
      { name: 'concept', valueCoding: { system: MODE, code: 'other', display: 'Other' } },
      { name: 'source', valueUri: MODE_URL },
    ]);
    const provided = await ok('POST', '/ConceptMap/$translate', params(uri('url', SETTING_URL), uri('system', SETTING_SRC), code('PARK')));
    expect(matches(provided)).toEqual([`equal ${SETTING}|PARK <- ${SETTING_URL}`]);
    const viaOther = await ok('POST', '/ConceptMap/chained/$translate', params(uri('system', SETTING_SRC), code('CLINIC')));
    expect(matches(viaOther)).toEqual([`equal ${SETTING}|clinic <- ${SETTING_URL}`]);
    expect(matches(await ok('POST', '/ConceptMap/chained/$translate', params(uri('system', SETTING_SRC), code('HOME'))))).toEqual([
      `equivalent ${SETTING}|home <- http://example.org/ConceptMap/chained`,
    ]);

    const unmatched = await ok('POST', '/ConceptMap/riverbend-csv-contact-mode-2/$translate', params(uri('system', RB), code('NA')));
    expect(result(unmatched)).toBe(false);
    expect(matches(unmatched)).toEqual([`unmatched - <- ${MODE_URL}`]);
    expect(message(unmatched)).toContain('unmatched');
  });

  test('reverse: target -> source, wider and narrower swapped', async () => {
    const p = await ok(
      'POST',
      '/ConceptMap/riverbend-csv-contact-mode-2/$translate',
      params(uri('system', MODE), code('video'), { name: 'reverse', valueBoolean: true }),
    );
    expect(result(p)).toBe(true);
    expect(matches(p)).toEqual([`narrower ${RB}|TH <- ${MODE_URL}`, `wider ${RB}|AV <- ${MODE_URL}`]);
    const found = await ok('GET', `/ConceptMap/$translate?system=${encodeURIComponent(OTHER)}&code=F&reverse=true`);
    expect(matches(found)).toEqual([`equivalent ${RB}|F2F <- ${SETTING_URL}`]);
    // Reverse does not apply the fixed fallback.
    expect(
      result(
        await ok(
          'POST',
          '/ConceptMap/riverbend-csv-contact-mode-2/$translate',
          params(uri('system', MODE), code('other'), { name: 'reverse', valueBoolean: true }),
        ),
      ),
    ).toBe(false);
  });

  test('no match: result false with a message', async () => {
    const none = await ok('POST', '/ConceptMap/$translate', params(uri('system', 'http://nowhere.example.org'), code('X')));
    expect(result(none)).toBe(false);
    expect(matches(none)).toEqual([]);
    expect(message(none)).toBe('No mapping of http://nowhere.example.org|X in any ConceptMap (none maps its system)');
    const notInSetting = await ok('POST', '/ConceptMap/$translate', params(uri('url', SETTING_URL), uri('system', RB), code('PH')));
    expect(result(notInSetting)).toBe(false);
    expect(message(notInSetting)).toContain(`No mapping of ${RB}|PH in ConceptMap ${SETTING_URL}`);
    const wrongSystem = await ok(
      'POST',
      '/ConceptMap/riverbend-csv-contact-mode-2/$translate',
      params(uri('system', RB), code('F2F'), uri('targetsystem', OTHER)),
    );
    expect(result(wrongSystem)).toBe(false);
  });

  test('a ConceptMap given in the body', async () => {
    const p = await ok('POST', '/ConceptMap/$translate', params({ name: 'conceptMap', resource: setting }, uri('system', SETTING_SRC), code('CLINIC')));
    expect(matches(p)).toEqual([`equal ${SETTING}|clinic <- ${SETTING_URL}`]);
  });

  test.each([
    ['no code', params(uri('system', RB)), 'Give the code to translate'],
    ['code without system', params(code('F2F')), 'system is required with code'],
    ['code and coding', params(uri('system', RB), code('F2F'), { name: 'coding', valueCoding: { system: RB, code: 'PH' } }), 'only one of'],
    ['coding without system', params({ name: 'coding', valueCoding: { code: 'PH' } }), 'needs both system and code'],
    ['empty codeableConcept', params({ name: 'codeableConcept', valueCodeableConcept: { text: 'x' } }), 'no coding'],
    ['not Parameters', { resourceType: 'Patient' }, 'takes a Parameters resource'],
    ['parameter not an array', { resourceType: 'Parameters', parameter: {} }, 'must be an array'],
    ['unknown parameter', params(uri('system', RB), code('F2F'), str('colour', 'red')), "Unknown parameter 'colour'"],
    ['wrong value type', params(uri('system', RB), { name: 'code', valueInteger: 3 }), 'code must have a valueCode'],
    ['reverse not boolean', params(uri('system', RB), code('F2F'), str('reverse', 'yes')), 'reverse must have a valueBoolean'],
    ['repeated parameter', params(uri('system', RB), code('F2F'), code('PH')), 'code must be given once'],
    ['dependency', params(uri('system', RB), code('F2F'), { name: 'dependency', part: [] }), 'dependency is not supported'],
    ['conceptMapVersion without url', params(uri('system', RB), code('F2F'), str('conceptMapVersion', '1')), 'conceptMapVersion needs url'],
  ])('400: %s', async (_name, body, text) => {
    expect(await error(400, 'POST', '/ConceptMap/$translate', body)).toContain(text);
  });

  test('400s over GET: repeated, complex and unknown parameters, bad reverse', async () => {
    expect(await error(400, 'GET', '/ConceptMap/$translate?system=a&code=b&code=c')).toContain('code must be given once');
    expect(await error(400, 'GET', '/ConceptMap/$translate?coding=a')).toContain('send it in a Parameters body');
    expect(await error(400, 'GET', '/ConceptMap/$translate?system=a&code=b&reverse=yes')).toContain('reverse must be true or false');
    expect(await error(400, 'GET', '/ConceptMap/$translate?system=a&code=b&sytem=c')).toContain("Unknown parameter 'sytem'");
    expect(await error(400, 'GET', '/ConceptMap/$translate?code=b')).toContain('system is required');
  });

  test('404: unknown id, unknown url or version', async () => {
    await error(404, 'GET', `/ConceptMap/nope/$translate?system=${encodeURIComponent(RB)}&code=F2F`);
    expect(await error(404, 'POST', '/ConceptMap/$translate', params(uri('url', 'http://example.org/none'), uri('system', RB), code('F2F')))).toContain(
      'No ConceptMap with url http://example.org/none',
    );
    expect(
      await error(404, 'POST', '/ConceptMap/$translate', params(uri('url', MODE_URL), str('conceptMapVersion', '9'), uri('system', RB), code('F2F'))),
    ).toContain('and version 9');
  });
});
