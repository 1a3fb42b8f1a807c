/**
 * HL7 v2 MLLP listener (Minimal Lower Layer Protocol release 2, framing in ./framing.ts) over
 * plain Node `net`. It only frames: what a message means and which ACK (AA/AE/AR) to answer is
 * the handler's business, so it carries any payload.
 *
 * Guarantees, per connection:
 * - Messages are handled strictly in order, one at a time; the ACK for message k is written (handed
 *   to the OS) before message k+1 is given to the handler. A sender may pipeline: frames that arrive
 *   while one is being handled are buffered, never dropped; when the buffer passes
 *   `maxMessageBytes` the socket is paused (TCP backpressure) until the handler catches up.
 * - The listener never acknowledges by itself: the only ACK sent for a message is the one the
 *   handler's promise resolves with, so a handler that stores the message durably before resolving
 *   gives the sender at-least-once delivery.
 * - A handler that throws (or rejects) gets NO acknowledgement at all: the failure is logged and the
 *   connection closed, and frames queued behind it are not handled. The sender sees the connection
 *   drop without an ACK and resends from that message later (HL7 original-mode acknowledgement).
 *   Re-sent messages must therefore be idempotent downstream (PeerBridge's deterministic ids).
 * - Bytes outside a frame are skipped (one warning per connection); a frame restarted by a new
 *   start block is discarded (warning). A frame larger than `maxMessageBytes`: messages before it are
 *   still handled and acknowledged, then `onOversize`'s reply (e.g. an AR) is sent if given and the
 *   connection closed, since there is no safe place to resynchronise (warning).
 * - A connection closed mid-frame: the partial frame is discarded; it was never acknowledged.
 * - Idle connections (no bytes for `idleTimeoutMs`, and no handler running) are closed.
 *
 * Logs never carry message content (PHI): only the peer, sizes, counts and error messages.
 */
import * as net from 'node:net';
import { frame, MllpDecoder } from './framing';

export { frame } from './framing';
export { sendMllp } from './client';

export interface MllpPeer {
  address: string;
  port: number;
}

/** Handles one unframed message and resolves with the unframed ACK to send back (a string as UTF-8). */
export interface MllpHandler {
  (message: Buffer, peer: MllpPeer): Promise<Buffer | string>;
}

export type MllpLog = (level: 'info' | 'warn' | 'error', message: string, meta?: Record<string, unknown>) => void;

export interface MllpOptions {
  /** TCP port; 0 picks a free one (see `MllpListener.port`). */
  port: number;
  /** Interface to bind; Node's default (all interfaces) when unset. */
  host?: string;
  handler: MllpHandler;
  /** Largest message content accepted, in bytes (default 1 MiB). */
  maxMessageBytes?: number;
  /** Idle connections are closed after this long without bytes (default 60 000 ms). */
  idleTimeoutMs?: number;
  /**
   * How long `close()` waits for running handlers and their ACKs (default 10 000 ms); senders then
   * get up to 2 s more to close their side before their sockets are destroyed.
   */
  closeTimeoutMs?: number;
  /** Default: one JSON line on the console, like src/server.ts. */
  log?: MllpLog;
  /** The reply (e.g. an AR ACK) sent before closing a connection whose frame is too large. */
  onOversize?: (peer: MllpPeer) => Buffer | string;
}

export interface MllpListener {
  /** The port actually bound (the ephemeral one when `options.port` was 0). */
  port: number;
  /**
   * Stops accepting connections and reading, lets running handlers finish and their ACKs be
   * written (bounded by `closeTimeoutMs`), then closes every connection. Frames buffered but not
   * yet handled are dropped unacknowledged (the senders resend them). Safe to call twice.
   */
  close(): Promise<void>;
}

const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;
/** After we end our side, how long a peer gets to close its side before the socket is destroyed. */
const CLOSE_GRACE_MS = 2_000;

const consoleLog: MllpLog = (level, message, meta) => console[level === 'info' ? 'log' : level](JSON.stringify({ level, message, ...meta }));

interface Settings {
  handler: MllpHandler;
  maxMessageBytes: number;
  log: MllpLog;
  onOversize?: (peer: MllpPeer) => Buffer | string;
}

/** Starts listening; resolves once bound, rejects if binding fails (e.g. EADDRINUSE). */
export function startMllpListener(options: MllpOptions): Promise<MllpListener> {
  const settings: Settings = {
    handler: options.handler,
    maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    log: options.log ?? consoleLog,
    onOversize: options.onOversize,
  };
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
  const connections = new Set<Connection>();
  // allowHalfOpen: a sender may pipeline frames and then shut down its side; we still answer them.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const connection = new Connection(socket, settings, idleTimeoutMs);
    connections.add(connection);
    socket.once('close', () => connections.delete(connection));
  });
  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    const current = [...connections];
    for (const connection of current) connection.stopReading();
    const idle = Promise.all(current.map((c) => c.whenIdle()));
    if (!(await withTimeout(idle, closeTimeoutMs))) {
      settings.log('warn', 'MLLP close: handlers still running after the timeout; closing their connections without an ACK', {
        timeoutMs: closeTimeoutMs,
      });
    }
    for (const connection of current) connection.end();
    await withTimeout(Promise.all(current.map((c) => c.whenClosed())), CLOSE_GRACE_MS);
    for (const connection of current) connection.destroy();
    await serverClosed;
  };

  return new Promise<MllpListener>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port, host: options.host }, () => {
      server.off('error', reject);
      server.on('error', (err) => settings.log('error', 'MLLP listener error', { error: err.message }));
      const address = server.address() as net.AddressInfo;
      settings.log('info', 'MLLP listener started', { host: address.address, port: address.port });
      resolve({
        port: address.port,
        close: () => (closing ??= close()),
      });
    });
  });
}

/** One sender's connection: decode, queue, handle in order, answer. */
class Connection {
  private readonly peer: MllpPeer;
  private readonly peerLabel: string;
  private readonly decoder: MllpDecoder;
  /** Complete frames waiting for the handler; OVERSIZE marks where the stream became unusable. */
  private readonly queue: (Buffer | typeof OVERSIZE)[] = [];
  private queuedBytes = 0;
  private busy = false;
  private paused = false;
  /** No more frames are taken or handled (closing, failed, oversize, or socket gone). */
  private stopped = false;
  private peerEnded = false;
  private closed = false;
  private warnedSkipped = false;
  private partialLogged = false;
  private skippedBytes = 0;
  private handled = 0;
  private idleWaiters: (() => void)[] = [];
  private closeWaiters: (() => void)[] = [];
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: net.Socket,
    private readonly settings: Settings,
    idleTimeoutMs: number,
  ) {
    this.peer = { address: socket.remoteAddress ?? 'unknown', port: socket.remotePort ?? 0 };
    this.peerLabel = `${this.peer.address}:${this.peer.port}`;
    this.decoder = new MllpDecoder(settings.maxMessageBytes);
    socket.setNoDelay(true);
    socket.setKeepAlive(true);
    socket.setTimeout(idleTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('timeout', () => this.onTimeout(idleTimeoutMs));
    socket.on('error', (err) => this.log('warn', 'MLLP connection error', { error: err.message }));
    socket.on('close', () => this.onClose());
  }

  /** Resolves when no handler is running (at once if none is). */
  whenIdle(): Promise<void> {
    if (!this.busy || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  whenClosed(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  /** Listener closing: take no more frames; the running handler (if any) still finishes and answers. */
  stopReading(): void {
    this.stop();
    if (!this.busy) this.end();
  }

  /** Ends our side gracefully (pending ACKs are flushed first); destroyed if the peer lingers. */
  end(): void {
    this.stop();
    if (this.closed) return;
    // Keep reading (and discarding) so the peer's FIN is seen and the socket closes cleanly.
    this.socket.resume();
    this.socket.end();
    this.graceTimer ??= setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  destroy(): void {
    this.stop();
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.stopped) return;
    for (const event of this.decoder.push(chunk)) {
      switch (event.kind) {
        case 'message':
          this.queue.push(event.message);
          this.queuedBytes += event.message.length;
          break;
        case 'skipped':
          this.skippedBytes += event.bytes;
          if (!this.warnedSkipped) {
            this.warnedSkipped = true;
            this.log('warn', 'MLLP bytes outside a frame skipped (logged once per connection)', { bytes: event.bytes });
          }
          break;
        case 'restarted':
          this.log('warn', 'MLLP start block inside a frame; unfinished frame discarded', { discardedBytes: event.discardedBytes });
          break;
        case 'oversize':
          this.log('warn', 'MLLP frame larger than the limit; connection will be closed', {
            bytes: event.bytes,
            maxMessageBytes: this.settings.maxMessageBytes,
          });
          this.queue.push(OVERSIZE);
          break;
      }
    }
    this.updateFlow();
    this.pump().catch((err: unknown) => {
      this.log('error', 'MLLP connection failed', { error: err instanceof Error ? err.message : String(err) });
      this.destroy();
    });
  }

  /** Hands queued frames to the handler one at a time, writing each ACK before the next. */
  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queue.length > 0 && !this.stopped) {
        const item = this.queue.shift()!;
        if (item === OVERSIZE) {
          await this.answerOversize();
          return;
        }
        this.queuedBytes -= item.length;
        this.updateFlow();
        if (!(await this.handle(item))) return;
      }
    } finally {
      this.busy = false;
      this.updateFlow();
      for (const resolve of this.idleWaiters.splice(0)) resolve();
      // A sender that shut down its side after pipelining: everything is answered now.
      if (this.peerEnded && this.queue.length === 0) this.end();
      // The listener is closing (or the connection failed): end once the running handler is done.
      if (this.stopped) this.end();
    }
  }

  /** Runs the handler and writes its ACK; false when the connection is to be (or was) closed. */
  private async handle(message: Buffer): Promise<boolean> {
    let ack: Buffer | string;
    try {
      ack = await this.settings.handler(message, this.peer);
      if (typeof ack !== 'string' && !Buffer.isBuffer(ack)) throw new Error('handler resolved without an acknowledgement');
    } catch (err) {
      this.log('error', 'MLLP handler failed; connection closed without an acknowledgement', {
        bytes: message.length,
        error: err instanceof Error ? err.message : String(err),
      });
      this.dropQueued();
      this.end();
      return false;
    }
    if (!(await this.write(ack))) {
      this.log('warn', 'MLLP connection closed before the acknowledgement was written', { bytes: message.length });
      return false;
    }
    this.handled += 1;
    return true;
  }

  private async answerOversize(): Promise<void> {
    this.dropQueued();
    try {
      const reply = this.settings.onOversize?.(this.peer);
      if (reply !== undefined) await this.write(reply);
    } finally {
      this.end();
    }
  }

  private write(payload: Buffer | string): Promise<boolean> {
    if (this.closed || !this.socket.writable) return Promise.resolve(false);
    const framed = frame(payload);
    return new Promise((resolve) => this.socket.write(framed, (err) => resolve(!err)));
  }

  private onEnd(): void {
    this.peerEnded = true;
    this.discardPartial('MLLP connection ended mid-frame; unfinished frame discarded');
    if (!this.busy && this.queue.length === 0) this.end();
  }

  private onTimeout(idleTimeoutMs: number): void {
    // A running handler is our delay, not the sender's: the connection is not idle.
    if (this.busy) return;
    this.log('info', 'MLLP idle connection closed', { idleTimeoutMs });
    this.discardPartial('MLLP unfinished frame discarded at idle timeout');
    this.destroy();
  }

  private onClose(): void {
    this.closed = true;
    clearTimeout(this.graceTimer);
    this.discardPartial('MLLP connection closed mid-frame; unfinished frame discarded');
    this.dropQueued();
    this.stopped = true;
    this.log('info', 'MLLP connection closed', { handled: this.handled, skippedBytes: this.skippedBytes });
    for (const resolve of this.idleWaiters.splice(0)) resolve();
    for (const resolve of this.closeWaiters.splice(0)) resolve();
  }

  private stop(): void {
    this.stopped = true;
    this.updateFlow();
  }

  /** Logs (once) an unfinished frame that will never complete: it was never acknowledged. */
  private discardPartial(message: string): void {
    if (!this.decoder.inProgress || this.partialLogged) return;
    this.partialLogged = true;
    this.log('info', message, { partialBytes: this.decoder.partialBytes });
  }

  private dropQueued(): void {
    const frames = this.queue.filter((item) => item !== OVERSIZE).length;
    if (frames > 0) this.log('info', 'MLLP queued frames dropped unacknowledged (the sender resends them)', { frames, bytes: this.queuedBytes });
    this.queue.length = 0;
    this.queuedBytes = 0;
  }

  /** Backpressure: stop reading while a handler runs and too much is buffered. */
  private updateFlow(): void {
    if (this.closed) return;
    const buffered = this.queuedBytes + this.decoder.partialBytes;
    const pause = !this.stopped && (this.decoder.failed || (this.busy && buffered > this.settings.maxMessageBytes));
    if (pause && !this.paused) this.socket.pause();
    else if (!pause && this.paused) this.socket.resume();
    this.paused = pause;
  }

  private log(level: 'info' | 'warn' | 'error', message: string, meta: Record<string, unknown> = {}): void {
    this.settings.log(level, message, { peer: this.peerLabel, ...meta });
  }
}

const OVERSIZE = Symbol('oversize');

/** True if `promise` settled within `ms`. */
async function withTimeout(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
