/**
 * Attachment.size and Attachment.hash must agree with Attachment.data when both are given: size is
 * the number of bytes of the decoded data, hash its SHA-1, base64 encoded.
 * https://hl7.org/fhir/R4/datatypes.html#Attachment. The decoded length is worked out from the
 * base64 text; the data is only decoded when a hash is there to check.
 */
import { createHash } from 'node:crypto';
import type { Json, Report } from './types';

/** Bytes a base64 text decodes to (whitespace ignored), without decoding it. */
export function base64DecodedLength(data: string): number {
  let chars = 0;
  let padding = 0;
  for (let i = 0; i < data.length; i++) {
    const c = data.charCodeAt(i);
    if (c === 0x3d) {
      padding++;
    } else if (c > 0x20) {
      chars++;
    }
  }
  return Math.floor(((chars + padding) * 3) / 4) - padding;
}

/** Size and hash of one Attachment against its data. */
export function checkAttachment(att: Json, path: string, report: Report): void {
  const data = att.data;
  if (typeof data !== 'string') {
    return;
  }
  if (typeof att.size === 'number') {
    const actual = base64DecodedLength(data);
    if (att.size !== actual) {
      report('error', 'value', `Stated Attachment size ${att.size} does not match the size of the data, ${actual} bytes`, `${path}.size`);
    }
  }
  if (typeof att.hash === 'string') {
    const actual = createHash('sha1').update(Buffer.from(data, 'base64')).digest('base64');
    if (att.hash.replace(/\s+/g, '') !== actual) {
      report('error', 'value', `Stated Attachment hash ${att.hash} does not match the SHA-1 of the data, ${actual}`, `${path}.hash`);
    }
  }
}
