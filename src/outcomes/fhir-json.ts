/**
 * The one JSON format this server speaks (https://hl7.org/fhir/R4/http.html#mime-type): the media
 * type every FHIR answer is sent as, the types a FHIR JSON body may come in, and the sender.
 * Here beside the outcomes rather than in src/http because the auth middleware sends its 401 and
 * 429 outcomes with it too, and auth sits below http (no folder circle: test/house).
 */
import type { Request, Response } from 'express';
import type { Resource } from '@medplum/fhirtypes';

/** The media type of every FHIR answer. */
export const FHIR_JSON = 'application/fhir+json';

/** Content-Types a FHIR JSON request body may have (`application/json+fhir` is the DSTU2 name, still sent by some clients). */
export const FHIR_JSON_BODY_TYPES: readonly string[] = [FHIR_JSON, 'application/json', 'application/json+fhir'];

/** `_format` values that name JSON: the body types and the short form `json`. */
export const JSON_FORMATS: ReadonlySet<string> = new Set(['json', ...FHIR_JSON_BODY_TYPES]);

/** The request's media type, lower case, without parameters (`charset`); '' when absent. */
export const contentType = (req: Request): string => (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();

/** Sends a FHIR resource (an OperationOutcome for errors) as application/fhir+json. */
export function sendFhir(res: Response, status: number, body: Resource): void {
  res.status(status).type(FHIR_JSON).send(JSON.stringify(body));
}
