/**
 * The IG site at /ig/ (issue 16 item 6): public (no token) while everything FHIR still needs one;
 * pages, the stylesheet and the package's JSON are served; a missing page is a 404
 * OperationOutcome, not the 401 of the authentication mounted after the site; the pages may load
 * their own stylesheet and nothing else.
 */
import request from 'supertest';
import { openFullApp, type FullApp } from '../audit/full-app';

describe('/ig/ with auth on', () => {
  let app: FullApp;
  beforeAll(async () => {
    app = await openFullApp('pglite');
  }, 120_000);
  afterAll(() => app?.close());

  test('the index, a profile page and the stylesheet answer 200 without a token', async () => {
    const index = await request(app.server).get('/ig/');
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toMatch(/^text\/html/);
    expect(index.text).toContain('href="StructureDefinition-peer-support-encounter.html"');
    expect(index.headers['content-security-policy']).toBe("default-src 'none'; style-src 'self'; frame-ancestors 'none'");
    const profile = await request(app.server).get('/ig/StructureDefinition-peer-support-encounter.html');
    expect(profile.status).toBe(200);
    expect(profile.text).toContain('Peer Support Encounter');
    expect((await request(app.server).get('/ig/style.css')).status).toBe(200);
    expect((await request(app.server).get('/ig')).status).toBe(301);
  });

  test("a page's JSON link: the package's resource under /ig/package/", async () => {
    const res = await request(app.server).get('/ig/package/Questionnaire-idaho-recovery-capital-scale.json');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text).item[0].text).toBe('Place a number by each statement that best describes your situation today.');
  });

  test('missing pages and paths out of the site are 404 OperationOutcomes; FHIR still needs a token', async () => {
    for (const path of ['/ig/no-such-page.html', '/ig/../package.json', '/ig/%2e%2e/package.json', '/ig/package/.index.json', '/ig/package/']) {
      const res = await request(app.server).get(path);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    expect((await request(app.server).get('/fhir/Patient')).status).toBe(401);
  });
});
