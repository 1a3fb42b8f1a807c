import * as net from 'node:net';
import { frame, sendMllp, startMllpListener, type MllpHandler, type MllpListener, type MllpOptions } from '../../src/mllp/listener';
import { ackFor, collectLogs, controlId, deferred, delay, hl7, PHI, RawClient, waitFor, type LogLine } from './helpers';

const listeners: MllpListener[] = [];
const clients: RawClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await Promise.all(listeners.splice(0).map((l) => l.close()));
});

interface Harness {
  listener: MllpListener;
  received: Buffer[];
  logs: LogLine[];
  connect(): Promise<RawClient>;
}

/** A listener on an ephemeral port whose handler records each message and answers `ackFor` it. */
async function start(overrides: Partial<MllpOptions> & { handle?: (message: Buffer) => Promise<void> } = {}): Promise<Harness> {
  const received: Buffer[] = [];
  const { lines, log } = collectLogs();
  const { handle, ...options } = overrides;
  const handler: MllpHandler = async (message) => {
    received.push(message);
    if (handle) await handle(message);
    return ackFor(message);
  };
  const listener = await startMllpListener({ port: 0, host: '127.0.0.1', handler, log, ...options });
  listeners.push(listener);
  return {
    listener,
    received,
    logs: lines,
    connect: async () => {
      const client = await RawClient.connect(listener.port);
      clients.push(client);
      return client;
    },
  };
}

function expectNoPhi(logs: LogLine[]): void {
  expect(JSON.stringify(logs)).not.toContain(PHI);
  expect(JSON.stringify(logs)).not.toContain('MSH|');
}

describe('MLLP listener', () => {
  it('hands the exact message bytes and the peer to the handler and frames its ACK back', async () => {
    const peers: { address: string; port: number }[] = [];
    const h = await start({ handle: async () => undefined });
    const wrapped = await startMllpListener({
      port: 0,
      host: '127.0.0.1',
      log: () => undefined,
      handler: async (message, peer) => {
        peers.push(peer);
        return Buffer.concat([Buffer.from('ACK for '), message.subarray(0, 3)]);
      },
    });
    listeners.push(wrapped);
    // Latin-1 and UTF-8 bytes alike arrive untouched: the listener does not decode.
    const bytes = Buffer.concat([Buffer.from(hl7('1')), Buffer.of(0xe9, 0xc3, 0xa9, 0x0a)]);
    const client = await h.connect();
    await client.write(frame(bytes));
    await client.ackCount(1);
    expect(h.received).toEqual([bytes]);
    expect(Buffer.concat(client.raw)).toEqual(frame(ackFor(bytes)));

    const other = await RawClient.connect(wrapped.port);
    clients.push(other);
    await other.write(frame('MSH|x'));
    expect(await other.ackCount(1)).toEqual(['ACK for MSH']);
    expect(peers).toEqual([{ address: '127.0.0.1', port: other.socket.localPort }]);
  });

  it('handles pipelined frames from one TCP write in order, ACKs in order', async () => {
    const h = await start();
    const client = await h.connect();
    const ids = ['1', '2', '3', '4', '5', '6'];
    await client.write(Buffer.concat(ids.map((id) => frame(hl7(id)))));
    const acks = await client.ackCount(ids.length);
    expect(h.received.map(controlId)).toEqual(ids);
    expect(acks).toEqual(ids.map((id) => ackFor(hl7(id))));
  });

  it('reassembles a message sent one byte at a time', async () => {
    const h = await start();
    const client = await h.connect();
    const bytes = frame(hl7('byte-by-byte'));
    for (const byte of bytes) {
      await client.write(Buffer.of(byte));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await client.ackCount(1)).toEqual([ackFor(hl7('byte-by-byte'))]);
    expect(h.received.map((m) => m.toString())).toEqual([hl7('byte-by-byte')]);
  });

  it('skips garbage before and between frames, warning once per connection', async () => {
    const h = await start();
    const client = await h.connect();
    await client.write(Buffer.concat([Buffer.from('garbage\r\n'), frame(hl7('1')), Buffer.from('\n\n'), frame(hl7('2'))]));
    await client.write(Buffer.from('more junk'));
    await client.write(frame(hl7('3')));
    await client.ackCount(3);
    expect(h.received.map(controlId)).toEqual(['1', '2', '3']);
    const warnings = h.logs.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0].message).toMatch(/outside a frame/);
    expect(warnings[0].meta).toMatchObject({ bytes: 9, peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    expectNoPhi(h.logs);
  });

  it('preserves order with a slow handler: one message at a time, each ACK before the next message', async () => {
    let running = 0;
    let maxRunning = 0;
    const events: string[] = [];
    const h = await start({
      handle: async (message) => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        events.push(`start ${controlId(message)}`);
        await delay(controlId(message) === '1' ? 150 : 5);
        events.push(`end ${controlId(message)}`);
        running -= 1;
      },
    });
    const client = await h.connect();
    await client.write(frame(hl7('1')));
    await delay(20);
    await client.write(Buffer.concat([frame(hl7('2')), frame(hl7('3'))]));
    const acks = await client.ackCount(3);
    expect(maxRunning).toBe(1);
    expect(events).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
    expect(acks.map((a) => a.split('|').pop())).toEqual(['1\r', '2\r', '3\r']);
  });

  it('buffers a large pipelined burst behind a slow handler (backpressure, nothing dropped)', async () => {
    const h = await start({ maxMessageBytes: 4096, handle: () => delay(1) });
    const client = await h.connect();
    const pause = jest.spyOn(net.Socket.prototype, 'pause');
    const ids = Array.from({ length: 300 }, (_, i) => String(i));
    const burst = Buffer.concat(ids.map((id) => frame(hl7(id, 'x'.repeat(1000)))));
    expect(burst.length).toBeGreaterThan(300 * 1000);
    await client.write(burst);
    const acks = await client.ackCount(ids.length, 15_000);
    expect(h.received.map(controlId)).toEqual(ids);
    expect(acks.map(controlId)).toEqual(ids.map((id) => `A${id}`));
    expect(pause).toHaveBeenCalled();
    pause.mockRestore();
  });

  it('sends no ACK when the handler throws, closes the connection, and keeps serving others', async () => {
    const h = await start({
      handle: async (message) => {
        if (controlId(message) === '2') throw new Error('store unavailable');
      },
    });
    const client = await h.connect();
    await client.write(Buffer.concat([frame(hl7('1')), frame(hl7('2')), frame(hl7('3'))]));
    await client.whenClosed();
    expect(client.acks).toEqual([ackFor(hl7('1'))]);
    // The frame queued behind the failure is not handled: the sender resends from message 2.
    expect(h.received.map(controlId)).toEqual(['1', '2']);
    const error = h.logs.find((l) => l.level === 'error');
    expect(error?.meta).toMatchObject({ error: 'store unavailable', bytes: hl7('2').length });
    expectNoPhi(h.logs);

    const next = await h.connect();
    await next.write(frame(hl7('4')));
    expect(await next.ackCount(1)).toEqual([ackFor(hl7('4'))]);
  });

  it('answers an oversize frame with the onOversize reply after the ACKs before it, then closes', async () => {
    const h = await start({ maxMessageBytes: 400, onOversize: () => 'MSA|AR|too large' });
    const client = await h.connect();
    await client.write(Buffer.concat([frame(hl7('1')), frame(hl7('2', 'x'.repeat(500))), frame(hl7('3'))]));
    await client.whenClosed();
    expect(client.acks).toEqual([ackFor(hl7('1')), 'MSA|AR|too large']);
    expect(h.received.map(controlId)).toEqual(['1']);
    expect(h.logs.find((l) => l.level === 'warn')?.meta).toMatchObject({ maxMessageBytes: 400 });
    expectNoPhi(h.logs);
  });

  it('closes on an oversize frame without a reply when onOversize is not given, before the frame ends', async () => {
    const h = await start({ maxMessageBytes: 100 });
    const client = await h.connect();
    // The start of a frame that never ends: the limit is noticed without waiting for the rest.
    await client.write(Buffer.concat([Buffer.of(0x0b), Buffer.alloc(200, 0x41)]));
    await client.whenClosed();
    expect(client.acks).toEqual([]);
    expect(h.received).toEqual([]);
  });

  it('discards a frame cut off by the connection closing, unacknowledged', async () => {
    const h = await start();
    const client = await h.connect();
    const bytes = frame(hl7('1'));
    await client.write(Buffer.concat([frame(hl7('0')), bytes.subarray(0, 40)]));
    await client.ackCount(1);
    client.socket.end();
    await client.whenClosed();
    await waitFor(() => h.logs.some((l) => /mid-frame/.test(l.message)), 2000, 'the mid-frame log');
    expect(h.received.map(controlId)).toEqual(['0']);
    expect(h.logs.find((l) => /mid-frame/.test(l.message))?.meta).toMatchObject({ partialBytes: 39 });

    const next = await h.connect();
    await next.write(bytes);
    expect(await next.ackCount(1)).toEqual([ackFor(hl7('1'))]);
  });

  it('answers frames a sender pipelined before shutting down its side', async () => {
    const h = await start({ handle: () => delay(20) });
    const client = await h.connect();
    client.socket.end(Buffer.concat([frame(hl7('1')), frame(hl7('2'))]));
    await client.whenClosed();
    expect(client.acks.map(controlId)).toEqual(['A1', 'A2']);
  });

  it('serves 20 concurrent connections independently', async () => {
    const h = await start({ handle: () => delay(Math.random() * 10) });
    const results = await Promise.all(
      Array.from({ length: 20 }, async (_, c) => {
        const client = await h.connect();
        const ids = Array.from({ length: 5 }, (__, m) => `${c}-${m}`);
        for (const id of ids.slice(0, 2)) await client.write(frame(hl7(id)));
        await client.write(Buffer.concat(ids.slice(2).map((id) => frame(hl7(id)))));
        return { ids, acks: await client.ackCount(5) };
      }),
    );
    for (const { ids, acks } of results) expect(acks.map(controlId)).toEqual(ids.map((id) => `A${id}`));
    expect(h.received).toHaveLength(100);
  });

  it('closes idle connections after idleTimeoutMs', async () => {
    const h = await start({ idleTimeoutMs: 100 });
    const client = await h.connect();
    await client.write(Buffer.concat([frame(hl7('1')), Buffer.of(0x0b), Buffer.from('partial')]));
    await client.ackCount(1);
    await client.whenClosed(2000);
    expect(h.logs.map((l) => l.message)).toEqual(expect.arrayContaining([expect.stringMatching(/idle/)]));
  });

  it('does not count a slow handler as idleness', async () => {
    const h = await start({ idleTimeoutMs: 100, handle: () => delay(300) });
    const client = await h.connect();
    await client.write(frame(hl7('1')));
    expect(await client.ackCount(1)).toEqual([ackFor(hl7('1'))]);
  });

  it('close() stops accepting, waits for a running handler and its ACK, then closes', async () => {
    const gate = deferred();
    const started = deferred();
    const h = await start({
      handle: async () => {
        started.resolve();
        await gate.promise;
      },
    });
    const client = await h.connect();
    const idle = await h.connect();
    await client.write(Buffer.concat([frame(hl7('1')), frame(hl7('2'))]));
    await started.promise;

    let closed = false;
    const closing = h.listener.close().then(() => (closed = true));
    await delay(50);
    expect(closed).toBe(false);
    await expect(RawClient.connect(h.listener.port)).rejects.toThrow(/ECONNREFUSED/);
    await idle.whenClosed();

    gate.resolve();
    await closing;
    expect(client.acks).toEqual([ackFor(hl7('1'))]);
    // Message 2 was buffered but never handled: it stays unacknowledged for the sender to resend.
    expect(h.received.map(controlId)).toEqual(['1']);
    await client.whenClosed();
  });

  it('close() gives up on a stuck handler after closeTimeoutMs without sending an ACK', async () => {
    const h = await start({ closeTimeoutMs: 200, handle: () => new Promise(() => undefined) });
    const client = await h.connect();
    await client.write(frame(hl7('1')));
    await waitFor(() => h.received.length === 1);
    const begun = Date.now();
    await h.listener.close();
    expect(Date.now() - begun).toBeGreaterThanOrEqual(150);
    expect(Date.now() - begun).toBeLessThan(3000);
    await client.whenClosed();
    expect(client.acks).toEqual([]);
  });

  it('rejects when the port is taken', async () => {
    const h = await start();
    await expect(startMllpListener({ port: h.listener.port, host: '127.0.0.1', handler: async () => '', log: () => undefined })).rejects.toThrow(/EADDRINUSE/);
  });
});

describe('sendMllp', () => {
  it('sends one framed message and resolves with the unframed ACK', async () => {
    const h = await start();
    expect(await sendMllp('127.0.0.1', h.listener.port, hl7('rt'))).toBe(ackFor(hl7('rt')));
    expect(h.received.map((m) => m.toString())).toEqual([hl7('rt')]);
  });

  it('rejects after the timeout when no ACK comes', async () => {
    const gate = deferred();
    const h = await start({ handle: () => gate.promise });
    await expect(sendMllp('127.0.0.1', h.listener.port, hl7('slow'), 150)).rejects.toThrow(/within 150 ms/);
    gate.resolve();
  });

  it('rejects when the connection closes without an ACK', async () => {
    const h = await start({
      handle: async () => {
        throw new Error('no');
      },
    });
    await expect(sendMllp('127.0.0.1', h.listener.port, hl7('x'), 2000)).rejects.toThrow(/closed before an acknowledgement/);
  });

  it('rejects when nothing listens', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    await expect(sendMllp('127.0.0.1', port, 'x', 2000)).rejects.toThrow(/ECONNREFUSED/);
  });
});
