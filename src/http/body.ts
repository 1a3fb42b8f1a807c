/**
 * Request body readers: every body is read within `MAX_BODY_BYTES`, and a FHIR JSON body is
 * checked (media type, size, element count, syntax, depth) before any handler sees it, so an
 * oversized or malformed body is refused with a 4xx OperationOutcome and never built.
 */
import type { NextFunction, Request, Response } from 'express';
import { badRequest, tooCostly, tooLarge, unsupportedMediaType } from '../outcomes';
import { describeJsonError } from '../inbound/json-error';
import { jsonTextShape } from '../inbound/json-shape';
import { MAX_DEPTH } from '../validation';
import { contentType, FHIR_JSON, FHIR_JSON_BODY_TYPES } from '../outcomes/fhir-json';

/**
 * Reads a request body up to `maxBytes` (413 beyond, checked on Content-Length first and again
 * while reading, so a lying or absent length cannot get more in).
 */
export function readBody(req: Request, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > maxBytes) {
      req.resume();
      reject(tooLarge(`Request body of ${declared} bytes is over the limit of ${maxBytes} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > maxBytes) {
        failed = true;
        chunks.length = 0;
        reject(tooLarge(`Request body is over the limit of ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', (err) => {
      if (failed) return;
      failed = true;
      reject(badRequest(`Could not read the request body: ${err.message}`));
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
  });
}

/**
 * Reads a JSON body for POST/PUT: checks Content-Type (415), size (413), values (413, over
 * `maxElements`), syntax (400 with the line and column) and nesting depth (400), before any
 * handler sees it. Values and depth are read from the text, so an oversized body is never built.
 * The text is kept in `res.locals.bodyText`: ingest refuses duplicate top-level properties
 * (JSON.parse drops all but the last), and the FHIR adapter passes it on for issue positions.
 */
export function readFhirJsonBody(maxBytes: number, maxElements = Infinity) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method !== 'POST' && req.method !== 'PUT') {
      // No route takes a body otherwise (PATCH is not implemented: the router answers 405 with Allow); it is left unread.
      req.resume();
      next();
      return;
    }
    const type = contentType(req);
    // POST /{type}/_search may send its parameters as a form (https://hl7.org/fhir/R4/http.html#search).
    const form = type === 'application/x-www-form-urlencoded' && req.method === 'POST' && req.path.endsWith('/_search');
    if (!form && !FHIR_JSON_BODY_TYPES.includes(type)) {
      next(unsupportedMediaType(`Content-Type must be ${FHIR_JSON} (got '${type || 'none'}')`));
      return;
    }
    readBody(req, maxBytes).then((body) => {
      const text = body.toString('utf8').replace(/^\uFEFF/, '');
      if (form) {
        req.body = new URLSearchParams(text);
        next();
        return;
      }
      if (!text.trim()) {
        next(badRequest('Request body is empty; expected a FHIR JSON resource'));
        return;
      }
      const shape = jsonTextShape(text, maxElements);
      if (shape.values > maxElements) {
        next(tooCostly(`The body has more than ${maxElements} elements (VALIDATION_MAX_ELEMENTS): not read`));
        return;
      }
      try {
        req.body = JSON.parse(text) as unknown;
        res.locals.bodyText = text;
      } catch (e) {
        next(badRequest(`Malformed JSON: ${describeJsonError(e as Error, text)}`));
        return;
      }
      if (shape.depth > MAX_DEPTH) {
        next(badRequest(`JSON is nested more than ${MAX_DEPTH} levels deep`));
        return;
      }
      next();
    }, next);
  };
}
