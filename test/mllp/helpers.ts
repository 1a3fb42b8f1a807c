/** Raw-socket helpers for the MLLP tests: a client that records every framed reply and the close. */
import * as net from 'node:net';
import { MllpDecoder } from '../../src/mllp/framing';
import type { MllpLog } from '../../src/mllp/listener';

/** A name that stands for patient data: it must never appear in a log line. */
export const PHI = 'DOE^JANE^Q';

/** An HL7 v2-looking message with control id `id` (MSH-10) and a patient name. */
export function hl7(id: string, extra = ''): string {
  return `MSH|^~\\&|EHR|CCBHC|PEERBRIDGE|HIE|20240102030405||ADT^A04|${id}|P|2.5.1\rPID|1||${id}||${PHI}${extra}\r`;
}

/** The MSH-10 of a message made by `hl7`. */
export function controlId(message: Buffer | string): string {
  return message.toString().split('|')[9] ?? '';
}

/** The ACK the test handlers answer with. */
export function ackFor(message: Buffer | string): string {
  return `MSH|^~\\&|PEERBRIDGE|HIE|EHR|CCBHC|20240102030405||ACK|A${controlId(message)}|P|2.5.1\rMSA|AA|${controlId(message)}\r`;
}

export interface LogLine {
  level: string;
  message: string;
  meta?: Record<string, unknown>;
}

export function collectLogs(): { lines: LogLine[]; log: MllpLog } {
  const lines: LogLine[] = [];
  return { lines, log: (level, message, meta) => lines.push({ level, message, meta }) };
}

export async function waitFor(condition: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`Timed out waiting for ${what}`);
    await delay(5);
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A client socket that decodes the replies and remembers the raw bytes received. */
export class RawClient {
  readonly acks: string[] = [];
  readonly raw: Buffer[] = [];
  closed = false;
  private readonly decoder = new MllpDecoder(64 * 1024 * 1024);

  private constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.raw.push(chunk);
      for (const event of this.decoder.push(chunk)) if (event.kind === 'message') this.acks.push(event.message.toString());
    });
    socket.on('error', () => undefined);
    socket.on('close', () => (this.closed = true));
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  write(bytes: Buffer | string): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(bytes, (err) => (err ? reject(err) : resolve())));
  }

  async ackCount(n: number, timeoutMs = 5000): Promise<string[]> {
    await waitFor(() => this.acks.length >= n, timeoutMs, `${n} ACKs (have ${this.acks.length})`);
    return this.acks.slice(0, n);
  }

  async whenClosed(timeoutMs = 5000): Promise<void> {
    await waitFor(() => this.closed, timeoutMs, 'the connection to close');
  }

  destroy(): void {
    this.socket.destroy();
  }
}
