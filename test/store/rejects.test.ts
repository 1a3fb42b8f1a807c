/**
 * The ingest rejects store (src/store/rejects.ts) on both drivers: add, list with keyset paging,
 * get, resolve, retried, and re-sent source records updating their open reject.
 */
import { RejectStore, type RejectRecord, type StoredReject } from '../../src/store/rejects';
import { FhirError } from '../../src/outcomes';
import { DRIVERS, openTestStore, type TestStore } from '../support/stores';

function reject(n: number, over: Partial<RejectRecord> = {}): RejectRecord {
  return {
    source: 'riverbend-csv',
    feed: 'contacts',
    record: n,
    input: 'contacts.csv',
    where: `line ${n + 1}`,
    kind: 'contact',
    id: `C-${1000 + n}`,
    errors: [{ field: 'durationMinutes', source: `line ${n + 1}, column "Minutes"`, reason: "Not a whole number: '4O'", stage: 'mapping' }],
    raw: `C-${1000 + n},E-77,1001,09/15/2026,10:00 AM,4O,F2F,`,
    header: 'ContactID,EpisodeID,ClientID,ServiceDate,StartTime,Minutes,ContactType,Note',
    ...over,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.each(DRIVERS)('ingest rejects on %s', (driver) => {
  let store: TestStore;
  let rejects: RejectStore;
  beforeAll(async () => {
    store = await openTestStore(driver);
    rejects = await RejectStore.open(store.repo.driver);
  });
  afterAll(() => store?.close());

  test('open is idempotent, also when several start at once', async () => {
    await Promise.all([RejectStore.open(store.repo.driver), RejectStore.open(store.repo.driver)]);
    expect((await rejects.list({ source: 'nobody' })).total).toBe(0);
  });

  test('add keeps everything, raw input untruncated, and reads back as it was given', async () => {
    const big = `MSH|^~\\&|EHR|RB|PB|PB|20260915||ADT^A04|1|P|2.5.1\r${'NTE|1||'.padEnd(200_000, 'x')}\r`;
    const [stored] = await rejects.add([reject(1, { source: 'big', raw: big, feed: undefined, header: undefined, kind: undefined, id: undefined })]);
    expect(stored).toMatchObject({ source: 'big', record: 1, input: 'contacts.csv', where: 'line 2', raw: big, status: 'open', attempts: 1 });
    expect(stored.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(stored).not.toHaveProperty('feed');
    expect(stored).not.toHaveProperty('header');
    expect(stored).not.toHaveProperty('recordId');
    expect(stored).not.toHaveProperty('lastTriedAt');
    expect(Date.parse(stored.receivedAt)).not.toBeNaN();
    const [again] = await rejects.get([stored.id]);
    expect(again).toEqual(stored);
    expect(again.raw.length).toBe(big.length);

    const [full] = await rejects.add([reject(2, { source: 'full' })]);
    expect(full).toMatchObject({ feed: 'contacts', kind: 'contact', recordId: 'C-1002', header: reject(2).header, errors: reject(2).errors });
    expect(full).not.toHaveProperty('lastTriedAt');
  });

  test('characters PostgreSQL text cannot hold become U+FFFD instead of losing the record', async () => {
    const [stored] = await rejects.add([reject(1, { source: 'nul', raw: 'a\u0000b\uD800c', errors: [{ reason: 'bad \u0000 byte', stage: 'parse' }] })]);
    expect(stored.raw).toBe('a\uFFFDb\uFFFDc');
    expect(stored.errors[0].reason).toBe('bad \uFFFD byte');
  });

  test('list: newest first, keyset pages, totals, source/feed/status filters', async () => {
    const source = 'paging';
    // Three batches at distinct instants; rows of one batch share receivedAt and are ordered by id.
    const added: StoredReject[] = [];
    for (let b = 0; b < 3; b++) {
      added.push(...(await rejects.add([1, 2, 3].map((i) => reject(b * 10 + i, { source, feed: i === 3 ? 'episodes' : 'contacts' })))));
      await sleep(5);
    }
    const expected = [...added].sort((a, b) => b.receivedAt.localeCompare(a.receivedAt) || b.id.localeCompare(a.id)).map((r) => r.id);

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await rejects.list({ source, count: 4, cursor });
      expect(page.total).toBe(9);
      seen.push(...page.items.map((r) => r.id));
      cursor = page.next;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(expected);

    expect((await rejects.list({ source, feed: 'episodes' })).items.map((r) => r.recordId)).toEqual(['C-1023', 'C-1013', 'C-1003']);
    expect((await rejects.list({ source, count: 0 })).items).toEqual([]);
    expect((await rejects.list({ source, count: 0 })).total).toBe(9);
    expect((await rejects.list({ source, count: 9 })).next).toBeUndefined();

    expect(await rejects.resolve(added[0].id)).toBe(true);
    expect((await rejects.list({ source })).total).toBe(8);
    expect((await rejects.list({ source, status: 'resolved' })).items.map((r) => r.id)).toEqual([added[0].id]);
    expect((await rejects.list({ source, status: 'all' })).total).toBe(9);
  });

  test('a reject resolved between two pages neither shifts nor repeats the others', async () => {
    const source = 'moving';
    const added = await rejects.add([1, 2, 3, 4, 5].map((i) => reject(i, { source })));
    const first = await rejects.list({ source, count: 2 });
    for (const r of first.items) await rejects.resolve(r.id);
    const second = await rejects.list({ source, count: 2, cursor: first.next });
    const third = await rejects.list({ source, count: 2, cursor: second.next });
    const all = [...first.items, ...second.items, ...third.items].map((r) => r.id);
    expect(new Set(all).size).toBe(5);
    expect(all.sort()).toEqual(added.map((r) => r.id).sort());
    expect(third.next).toBeUndefined();
  });

  test('bad count, status and cursor are 400s', async () => {
    for (const q of [
      { count: -1 },
      { count: 1001 },
      { count: 1.5 },
      { status: 'closed' as 'open' },
      { cursor: 'nonsense' },
      { cursor: Buffer.from('["x","y"]').toString('base64url') },
    ]) {
      await expect(rejects.list(q)).rejects.toMatchObject({ status: 400 });
    }
    await expect(rejects.list({ cursor: 'nonsense' })).rejects.toBeInstanceOf(FhirError);
  });

  test('get: in the order asked, unknown and malformed ids left out', async () => {
    const [a, b] = await rejects.add([reject(1, { source: 'get' }), reject(2, { source: 'get' })]);
    const got = await rejects.get([b.id, 'not-a-uuid', '00000000-0000-4000-8000-000000000000', a.id.toUpperCase(), b.id]);
    expect(got.map((r) => r.id)).toEqual([b.id, a.id]);
    expect(await rejects.get([])).toEqual([]);
  });

  test('resolve: once, only open ones; retried: attempts + 1, new errors, lastTriedAt', async () => {
    const [r] = await rejects.add([reject(1, { source: 'resolve' })]);
    const errors = [{ field: 'mode', source: 'line 2, column "ContactType"', reason: "Code 'XX' is not in table contact-mode", stage: 'mapping' }];
    const tried = await rejects.retried(r.id, errors);
    expect(tried).toMatchObject({ id: r.id, attempts: 2, errors, status: 'open', receivedAt: r.receivedAt });
    expect(Date.parse(tried?.lastTriedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(r.receivedAt));

    expect(await rejects.resolve(r.id)).toBe(true);
    expect(await rejects.resolve(r.id)).toBe(false);
    expect(await rejects.resolve('nope')).toBe(false);
    const [resolved] = await rejects.get([r.id]);
    expect(resolved).toMatchObject({ status: 'resolved', attempts: 2 });
    expect(Date.parse(resolved.resolvedAt ?? '')).not.toBeNaN();
    expect(await rejects.retried(r.id, errors)).toBeUndefined();
    expect(await rejects.retried('nope', errors)).toBeUndefined();
  });

  test('resolve and retried join a transaction and roll back with it', async () => {
    const [r] = await rejects.add([reject(1, { source: 'tx' })]);
    await expect(
      store.repo.driver.transaction(async (tx) => {
        await rejects.retried(r.id, [{ reason: 'x', stage: 'store' }], tx);
        expect(await rejects.resolve(r.id, tx)).toBe(true);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect((await rejects.get([r.id]))[0]).toMatchObject({ status: 'open', attempts: 1 });
    const added = await store.repo.driver.transaction((tx) => rejects.add([reject(2, { source: 'tx' })], {}, tx));
    expect((await rejects.get([added[0].id]))[0]).toMatchObject({ status: 'open' });
  });

  test('the same source record sent again while its reject is open updates it instead of piling up', async () => {
    const source = 'dup';
    const [first] = await rejects.add([reject(1, { source })]);
    const newErrors = [{ reason: 'still bad', stage: 'mapping' }];
    // Sent again at another line: same record (source, feed, input, kind, id, raw), new location and errors.
    const [again] = await rejects.add([reject(1, { source, record: 7, where: 'line 8', errors: newErrors })]);
    expect(again).toMatchObject({ id: first.id, attempts: 2, record: 7, where: 'line 8', errors: newErrors, receivedAt: first.receivedAt });
    expect(again.lastTriedAt).toBeDefined();
    // Copies inside one call: one row, one attempt each; results line up with the input.
    const batch = await rejects.add([reject(1, { source }), reject(2, { source }), reject(1, { source })]);
    expect(batch[0].id).toBe(first.id);
    expect(batch[2]).toEqual(batch[0]);
    expect(batch[0].attempts).toBe(4);
    expect(batch[1].id).not.toBe(first.id);
    expect((await rejects.list({ source })).total).toBe(2);

    // Different raw, feed, kind, record id or owner: a different record.
    await rejects.add([
      reject(1, { source, raw: 'other' }),
      reject(1, { source, feed: 'other' }),
      reject(1, { source, kind: 'episode' }),
      reject(1, { source, id: 'X' }),
    ]);
    await rejects.add([reject(1, { source })], { organization: 'org-a' });
    expect((await rejects.list({ source })).total).toBe(7);
    // Another input or channel (issue 11 item 16), or other line ends: the same record.
    const [elsewhere] = await rejects.add([reject(1, { source, input: 'mllp', raw: `${reject(1).raw}\r\n` })]);
    expect(elsewhere).toMatchObject({ id: first.id, attempts: 5, input: 'contacts.csv' });
    expect((await rejects.list({ source })).total).toBe(7);

    // Once resolved, the record sent again is a new reject.
    await rejects.resolve(first.id);
    const [fresh] = await rejects.add([reject(1, { source })]);
    expect(fresh.id).not.toBe(first.id);
    expect(fresh.attempts).toBe(1);
    expect((await rejects.list({ source, status: 'all' })).total).toBe(8);
  });

  test('a large batch goes in several statements, all or nothing, results in input order', async () => {
    const source = 'bulk';
    const many = Array.from({ length: 2500 }, (_, i) => reject(i + 1, { source }));
    const stored = await rejects.add(many);
    expect(stored.map((r) => r.recordId)).toEqual(many.map((r) => r.id));
    expect(new Set(stored.map((r) => r.id)).size).toBe(2500);
    expect((await rejects.list({ source, count: 0 })).total).toBe(2500);
    // Over the size limit per statement: big raw inputs split too.
    const big = Array.from({ length: 3 }, (_, i) => reject(i + 1, { source: 'bulk-big', raw: `${i}`.padEnd(5 * 1024 * 1024, 'x') }));
    expect((await rejects.add(big)).map((r) => r.raw.length)).toEqual([5, 5, 5].map((m) => m * 1024 * 1024));
    // A bad row in the second statement: nothing of the batch is kept.
    const broken = Array.from({ length: 1500 }, (_, i) => reject(i + 1, { source: 'bulk-broken', record: i === 1400 ? Number.NaN : i + 1 }));
    await expect(rejects.add(broken)).rejects.toThrow();
    expect((await rejects.list({ source: 'bulk-broken', count: 0 })).total).toBe(0);
  });

  test('concurrent re-sends of one record keep one open reject', async () => {
    const source = 'race';
    const results = await Promise.all([1, 2, 3, 4].map(() => rejects.add([reject(1, { source })])));
    expect(new Set(results.map(([r]) => r.id)).size).toBe(1);
    const page = await rejects.list({ source });
    expect(page.total).toBe(1);
    expect(page.items[0].attempts).toBe(4);
  });
});
