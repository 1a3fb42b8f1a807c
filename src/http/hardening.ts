/**
 * Hardening (issue 6): security headers on every response, and an OperationOutcome for the
 * requests Node's HTTP parser refuses before Express sees them.
 */
import type { NextFunction, Request, Response } from 'express';
import type { Server } from 'node:http';
import { operationOutcome } from '../outcomes';
import { FHIR_JSON } from '../outcomes/fhir-json';

/**
 * Sent on every response (OWASP REST Security Cheat Sheet): nothing here is meant to be framed,
 * run or cached. `Cache-Control: no-store` is the default (answers hold PHI); routes that set
 * their own (SMART configuration) override it.
 */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

/** The security headers, and HSTS when the request came over https or the public base URL (src/config `publicBaseUrl`) is https. */
export function securityHeaders(publicBase: string) {
  const httpsBase = /^https:/i.test(publicBase);
  return (req: Request, res: Response, next: NextFunction): void => {
    res.set(SECURITY_HEADERS);
    if (httpsBase || req.secure) res.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    next();
  };
}

const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'The request headers are too large'],
  HPE_URI_TOO_LONG: [414, 'URI Too Long', 'The request URI is too long'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'The request was not received in time'],
  HPE_REQUEST_TIMEOUT: [408, 'Request Timeout', 'The request was not received in time'],
};

/**
 * Answers requests Node's HTTP parser refuses before Express sees them (headers over
 * `--max-http-header-size`, 16 KiB by default: 431; malformed request lines: 400) with an
 * OperationOutcome and the security headers, then closes the connection. Call on the server
 * `app.listen` returns.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, reason, text] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'Bad Request', 'The request could not be parsed as HTTP/1.1'];
    const body = JSON.stringify(operationOutcome('invalid', text));
    const headers = Object.entries(SECURITY_HEADERS).map(([name, value]) => `${name}: ${value}\r\n`);
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: ${FHIR_JSON}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `${headers.join('')}Connection: close\r\n\r\n${body}`,
    );
  });
}
