/**
 * Issue 11 item 8: one `$validate` of a 4 MB body (a million empty `name` entries) held the event
 * loop for seconds, and `/fhir/metadata` waited behind it. With the validation pool the body is
 * refused by its element budget (413) or validated in a worker, and other requests are answered
 * meanwhile. Over a real listening server; the only timing asserted is metadata under a second.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/http/app';
import { type ValidationBudget, ValidationPool, Validator } from '../../src/validation';

const FHIR = 'application/fhir+json';
const validator = Validator.create();
const manyNames = (n: number): string => JSON.stringify({ resourceType: 'Patient', name: Array.from({ length: n }, () => ({})) });
const HUGE = manyNames(1_000_000);

interface Running {
  base: string;
  close(): Promise<void>;
}

async function start(budget: Partial<ValidationBudget>): Promise<Running> {
  const validationPool = new ValidationPool({ size: 1, budget, definitions: validator.defs.options });
  await validationPool.validate({ resourceType: 'Patient' }); // its worker is loaded
  const app = createApp({ validator, validationPool, config: { MAX_BODY_BYTES: 16 * 1024 * 1024 } });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // The first CapabilityStatement is built lazily (seconds on a busy machine): not what is measured here.
  await (await fetch(`${base}/fhir/metadata`)).arrayBuffer();
  return {
    base,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      await validationPool.close();
    },
  };
}

const post = (base: string, path: string, body: string): Promise<Response> =>
  fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': FHIR }, body });

type Outcome = { resourceType?: string; issue?: { details?: { text?: string } }[] };

/** Sends `request`; until it is answered, times `/fhir/metadata` again and again. The answer and the slowest metadata. */
async function metadataDuring(base: string, request: Promise<Response>): Promise<{ res: Response; body: Outcome; slowest: number; samples: number }> {
  let done = false;
  const answered = request.then(async (res) => {
    const body = (await res.json()) as Outcome;
    done = true;
    return { res, body };
  });
  let slowest = 0;
  let samples = 0;
  do {
    const t0 = performance.now();
    const meta = await fetch(`${base}/fhir/metadata`);
    expect(meta.status).toBe(200);
    await meta.arrayBuffer();
    slowest = Math.max(slowest, performance.now() - t0);
    samples++;
    await new Promise((resolve) => setTimeout(resolve, 20));
  } while (!done);
  return { ...(await answered), slowest, samples };
}

describe('request bodies are validated off the event loop', () => {
  let server: Running | undefined;
  afterEach(() => server?.close());

  test('a million empty names: 413 by the element budget, /fhir/metadata answered meanwhile', async () => {
    server = await start({});
    const { res, body, slowest } = await metadataDuring(server.base, post(server.base, '/fhir/$validate', HUGE));
    expect(res.status).toBe(413);
    expect(body.resourceType).toBe('OperationOutcome');
    expect(body.issue?.[0]?.details?.text).toMatch(/more than 200000 elements \(VALIDATION_MAX_ELEMENTS\)/);
    expect(slowest).toBeLessThan(1000);
    // The same budget on every route that validates a body: writes, transactions, $extract.
    const entry = `{"request":{"method":"POST","url":"Patient"},"resource":${HUGE}}`;
    for (const [path, body] of [
      ['/fhir/Patient', HUGE],
      ['/fhir/Patient/$validate', `{"resourceType":"Parameters","parameter":[{"name":"resource","resource":${HUGE}}]}`],
      ['/fhir', `{"resourceType":"Bundle","type":"transaction","entry":[${entry}]}`],
      ['/fhir/QuestionnaireResponse/$extract', HUGE.replace('"Patient"', '"QuestionnaireResponse","status":"completed"').replace('"name"', '"item"')],
    ]) {
      const refused = await post(server.base, path, body);
      expect([path, refused.status]).toEqual([path, 413]);
    }
  }, 120_000);

  test('a body within the budget that takes long to validate runs in a worker; metadata is not held', async () => {
    server = await start({ timeoutMs: 120_000 });
    const family = JSON.stringify({ resourceType: 'Patient', name: Array.from({ length: 60_000 }, (_, i) => ({ family: `F${i}` })) });
    const { res, body, slowest, samples } = await metadataDuring(server.base, post(server.base, '/fhir/$validate', family));
    expect(res.status).toBe(200);
    expect(body.resourceType).toBe('OperationOutcome');
    expect(samples).toBeGreaterThan(1);
    expect(slowest).toBeLessThan(1000);
  }, 120_000);

  test('a validation over its time budget is stopped: 422 OperationOutcome on every route that validates, and the next one is served', async () => {
    server = await start({ maxElements: 1_000_000, timeoutMs: 200 });
    const slow = manyNames(300_000);
    for (const [path, body] of [
      ['/fhir/$validate', slow],
      ['/fhir/Patient', slow],
      ['/fhir/Patient/p1', slow.replace('{', '{"id":"p1",')],
      ['/fhir', `{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"POST","url":"Patient"},"resource":${slow}}]}`],
      ['/fhir/QuestionnaireResponse/$extract', slow.replace('"Patient"', '"QuestionnaireResponse","status":"completed"').replace('"name"', '"item"')],
    ]) {
      const res = await fetch(`${server.base}${path}`, { method: path.endsWith('p1') ? 'PUT' : 'POST', headers: { 'content-type': FHIR }, body });
      expect([path, res.status]).toEqual([path, 422]);
      expect(((await res.json()) as { issue: { code: string; details: { text: string } }[] }).issue[0]).toMatchObject({
        code: 'too-costly',
        details: { text: expect.stringMatching(/VALIDATION_TIMEOUT_MS/) },
      });
    }
    const ok = await post(server.base, '/fhir/$validate', '{"resourceType":"Patient","gender":"x"}');
    expect(ok.status).toBe(200);
    expect(JSON.stringify(await ok.json())).toMatch(/Patient\.gender/);
  }, 120_000);
});
