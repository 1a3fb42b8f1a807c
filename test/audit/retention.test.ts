/**
 * Audit retention (issue 15 item 1): AuditEvents older than the age are archived to NDJSON and
 * deleted with their history and search rows, batch by batch; newer ones stay and are still
 * found; a second sweep finds nothing; the CLI does the same. Both drivers.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { AuditEvent } from '@medplum/fhirtypes';
import { parseSearchRequest } from '@medplum/core';
import { archiveAuditEvents } from '../../src/audit';
import { auditCommand } from '../../src/cli/audit';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';

const event = (i: number): AuditEvent => ({
  resourceType: 'AuditEvent',
  id: `ret-${i}`,
  type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' },
  action: 'R',
  recorded: new Date().toISOString(),
  outcome: '0',
  agent: [{ requestor: true, who: { display: `client ${i}` } }],
  source: { observer: { display: 'test' } },
  entity: [{ what: { reference: `Patient/p${i}` } }],
});

describe.each(DRIVERS)('AuditEvent retention on %s', (driver) => {
  let store: TestStore;
  let dir: string;

  beforeAll(async () => {
    store = await openTestStore(driver);
    dir = mkdtempSync(join(tmpdir(), 'pb-audit-archive-'));
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('old events go to the archive file and out of every table; new ones stay', async () => {
    await store.repo.updateMany(Array.from({ length: 30 }, (_, i) => event(i)));
    const old = Array.from({ length: 20 }, (_, i) => `ret-${i}`);
    for (const table of ['fhir_resource', 'fhir_history']) {
      await store.repo.driver.query(`UPDATE ${table} SET last_updated = now() - interval '100 days' WHERE resource_type = 'AuditEvent' AND id = ANY($1)`, [
        old,
      ]);
    }
    const r = await archiveAuditEvents(store.repo.driver, { before: new Date(Date.now() - 90 * 86_400_000), dir, batchSize: 7 });
    expect(r.archived).toBe(20);
    const lines = readFileSync(r.file as string, 'utf8')
      .trim()
      .split('\n');
    expect(lines.map((l) => (JSON.parse(l) as AuditEvent).id).sort()).toEqual([...old].sort());
    expect(statSync(r.file as string).mode & 0o777).toBe(0o600);
    for (const table of ['fhir_resource', 'fhir_history', 'fhir_token', 'fhir_string', 'fhir_date', 'fhir_reference', 'fhir_number']) {
      const { rows } = await store.repo.driver.query<{ n: number | string }>(
        `SELECT count(*) AS n FROM ${table} WHERE resource_type = 'AuditEvent' AND id = ANY($1)`,
        [old],
      );
      expect({ table, n: Number(rows[0].n) }).toEqual({ table, n: 0 });
    }
    const left = await store.repo.search(parseSearchRequest('AuditEvent?_count=100'));
    expect(left.resources.map((e) => e.id).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `ret-${i + 20}`).sort());
    const byEntity = await store.repo.search(parseSearchRequest('AuditEvent?entity=Patient/p25'));
    expect(byEntity.resources.length).toBe(1);
    const again = await archiveAuditEvents(store.repo.driver, { before: new Date(Date.now() - 90 * 86_400_000), dir, fileName: 'again.ndjson' });
    expect(again).toEqual({ archived: 0 });
    expect(readdirSync(dir)).not.toContain('again.ndjson');
  });
});

describe('peerbridge audit archive', () => {
  const sink = () => {
    let text = '';
    const stream = new Writable({
      write(chunk: Buffer, _e, cb) {
        text += chunk.toString();
        cb();
      },
    });
    return { stream, text: () => text };
  };

  test('usage errors exit 2; help exits 0', async () => {
    const out = sink();
    const err = sink();
    expect(await auditCommand(['archive'], out.stream, err.stream, {})).toBe(2);
    expect(err.text()).toMatch(/--older-than-days/);
    expect(await auditCommand(['archive', '--older-than-days', 'x'], out.stream, err.stream, {})).toBe(2);
    expect(await auditCommand(['prune', '--older-than-days', '1'], out.stream, err.stream, {})).toBe(2);
    expect(await auditCommand(['archive', '--help'], out.stream, err.stream, {})).toBe(0);
    expect(out.text()).toMatch(/Usage/);
  });

  test('archives an embedded store (DATA_DIR) by hand', async () => {
    const data = mkdtempSync(join(tmpdir(), 'pb-audit-cli-'));
    try {
      const { openStore } = await import('../../src/store');
      const repo = await openStore({ DATA_DIR: data });
      await repo.updateMany([event(1), event(2)]);
      await repo.driver.query(`UPDATE fhir_resource SET last_updated = now() - interval '10 days' WHERE resource_type = 'AuditEvent' AND id = 'ret-1'`);
      await repo.close();
      const out = sink();
      const err = sink();
      expect(await auditCommand(['archive', '--older-than-days', '5'], out.stream, err.stream, { DATA_DIR: data })).toBe(0);
      expect(out.text()).toMatch(/^1 AuditEvents archived to .*audit-archive.*AuditEvent-.*\.ndjson and deleted/);
      expect(err.text()).toBe('');
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });
});
