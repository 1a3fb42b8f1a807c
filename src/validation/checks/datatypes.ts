/**
 * Checks tied to a datatype rather than to a profile, run on every object of that type once its
 * children have been walked (whatever profile is in force): the rule list per type.
 *
 * To add one, write the check in the file of its kind (references.ts, bindings.ts, ../rules/ for
 * the reference validator's rules) as a `DatatypeCheck` and list it here under its type; the
 * checks of a type run in the order listed.
 */
import { checkNarrative } from '../narrative';
import { checkAttachment } from '../rules/attachment';
import { checkAttachmentUrl } from '../rules/example-urls';
import { checkPeriod } from '../rules/period';
import { checkUcumQuantity, UCUM } from '../rules/ucum';
import { checkCodingInCodeSystem } from './bindings';
import { type CheckContext, type Json, reporter } from './context';
import { checkReference } from './references';

/** A check on one object of a datatype, at `path`. */
export type DatatypeCheck = (ctx: CheckContext, obj: Json, path: string) => void;

/** The checks of each datatype (a Map: type names come from schemas, never Object.prototype). */
export const DATATYPE_CHECKS: ReadonlyMap<string, readonly DatatypeCheck[]> = new Map<string, DatatypeCheck[]>([
  ['Period', [checkPeriodOrder]],
  ['Reference', [checkReference]],
  ['Narrative', [checkNarrativeDiv]],
  ['Coding', [checkCodingInCodeSystem]],
  ['Attachment', [checkAttachmentData]],
  ...['Quantity', 'Age', 'Count', 'Distance', 'Duration', 'MoneyQuantity', 'SimpleQuantity'].map((t): [string, DatatypeCheck[]] => [t, [checkUcum]]),
]);

/** per-1 as the reference validator evaluates it (../rules/period.ts). */
export function checkPeriodOrder(ctx: CheckContext, obj: Json, path: string): void {
  if (typeof obj.start === 'string' && typeof obj.end === 'string') {
    checkPeriod(obj, path, reporter(ctx));
  }
}

/** size and hash against data; an example-domain url (../rules/attachment.ts, example-urls.ts). */
export function checkAttachmentData(ctx: CheckContext, obj: Json, path: string): void {
  if (obj.data !== undefined) {
    checkAttachment(obj, path, reporter(ctx));
  }
  if (obj.url !== undefined) {
    checkAttachmentUrl(obj.url, `${path}.url`, reporter(ctx));
  }
}

/** UCUM codes (../rules/ucum.ts). */
export function checkUcum(ctx: CheckContext, obj: Json, path: string): void {
  if (obj.system === UCUM) {
    checkUcumQuantity(obj, path, reporter(ctx));
  }
}

/** The narrative's XHTML (txt-1, txt-2 and well-formedness; narrative.ts). */
export function checkNarrativeDiv(ctx: CheckContext, obj: Json, path: string): void {
  for (const problem of checkNarrative(obj.div)) {
    ctx.report('error', problem.code, problem.message, `${path}.div`);
  }
}
