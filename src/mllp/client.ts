/**
 * A minimal MLLP sender: one framed message per connection, resolved with the unframed ACK.
 * For tests, the README and command-line use; production senders are the EHRs' interface engines.
 */
import * as net from 'node:net';
import { frame, MllpDecoder } from './framing';

/** Largest acknowledgement accepted by `sendMllp`. */
const MAX_ACK_BYTES = 16 * 1024 * 1024;

/**
 * Connects to `host:port`, sends `message` (a string as UTF-8) in one MLLP frame and resolves with
 * the first framed reply decoded as UTF-8. Rejects when no reply arrives within `timeoutMs`
 * (default 10 s, connecting included), or the connection fails or closes first.
 */
export function sendMllp(host: string, port: number, message: string | Buffer, timeoutMs = 10_000): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const decoder = new MllpDecoder(MAX_ACK_BYTES);
    const socket = net.connect({ host, port });
    let settled = false;
    const settle = (error: Error | undefined, ack?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(ack ?? '');
    };
    const timer = setTimeout(() => settle(new Error(`No MLLP acknowledgement from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
    socket.setNoDelay(true);
    socket.once('connect', () => socket.write(frame(message)));
    socket.on('data', (chunk: Buffer) => {
      for (const event of decoder.push(chunk)) {
        if (event.kind === 'message') return settle(undefined, event.message.toString('utf8'));
        if (event.kind === 'oversize') return settle(new Error(`MLLP acknowledgement larger than ${MAX_ACK_BYTES} bytes`));
      }
    });
    socket.once('error', (err) => settle(err));
    socket.once('close', () => settle(new Error(`MLLP connection to ${host}:${port} closed before an acknowledgement`)));
  });
}
