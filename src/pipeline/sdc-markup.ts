/**
 * What a Questionnaire's own markup says about observation-based extraction
 * (http://hl7.org/fhir/uv/sdc/extraction.html#observation-based-extraction): an item is extracted
 * when it has an `item.code` and `sdc-questionnaire-observationExtract` is true on it, or on the
 * nearest group above it that says, or on the Questionnaire; its value is the response's answers,
 * or, for a calculated item left unanswered, its `sdc-questionnaire-calculatedExpression`
 * (FHIRPath, evaluated on the response by fhirpath.js with the R4 model).
 */
import type {
  Coding,
  Questionnaire,
  QuestionnaireItem,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  QuestionnaireResponseItemAnswer,
} from '@medplum/fhirtypes';
import type FhirPath from 'fhirpath';
import type { Model } from 'fhirpath';
import type { ObservationValue } from '../fhir/observation';
import { unprocessable } from '../outcomes';

let loaded: { fhirpath: typeof FhirPath; r4: Model } | undefined;

/** fhirpath.js and its R4 model, loaded on first use: only a calculatedExpression needs them (~150 ms and its parser's memory at start otherwise). */
function fhirpathJs(): { fhirpath: typeof FhirPath; r4: Model } {
  /* eslint-disable @typescript-eslint/no-require-imports -- loaded on first use */
  loaded ??= { fhirpath: require('fhirpath') as typeof FhirPath, r4: require('fhirpath/fhir-context/r4') as Model };
  /* eslint-enable @typescript-eslint/no-require-imports */
  return loaded;
}

const SDC = 'http://hl7.org/fhir/uv/sdc/StructureDefinition/';
export const OBSERVATION_EXTRACT = `${SDC}sdc-questionnaire-observationExtract`;
const CALCULATED = `${SDC}sdc-questionnaire-calculatedExpression`;

/** An item marked for extraction. */
export interface MarkedItem {
  item: QuestionnaireItem;
  code: Coding[];
}

const extractFlag = (x: { extension?: { url: string; valueBoolean?: boolean }[] }): boolean | undefined =>
  x.extension?.find((e) => e.url === OBSERVATION_EXTRACT)?.valueBoolean;

/** The items of `q` to extract, in the Questionnaire's order. */
export function markedItems(q: Questionnaire): MarkedItem[] {
  const out: MarkedItem[] = [];
  const walk = (items: QuestionnaireItem[] | undefined, inherited: boolean) =>
    items?.forEach((item) => {
      const extract = extractFlag(item) ?? inherited;
      if (extract && item.code?.length && item.type !== 'group' && item.type !== 'display') out.push({ item, code: item.code });
      walk(item.item, extract);
    });
  walk(q.item, extractFlag(q) ?? false);
  return out;
}

/** The answers to `linkId` anywhere in the response (items nested in groups and in answers). */
export function answersTo(qr: QuestionnaireResponse, linkId: string): QuestionnaireResponseItemAnswer[] {
  const out: QuestionnaireResponseItemAnswer[] = [];
  const walk = (items: QuestionnaireResponseItem[] | undefined) =>
    items?.forEach((i) => {
      if (i.linkId === linkId) out.push(...(i.answer ?? []));
      walk(i.item);
      i.answer?.forEach((a) => walk(a.item));
    });
  walk(qr.item);
  return out;
}

/** An answer as Observation value elements; undefined for answer types an Observation cannot hold (attachment, reference, uri). */
export function observationValue(a: QuestionnaireResponseItemAnswer): ObservationValue | undefined {
  if (a.valueCoding) return { valueCodeableConcept: { coding: [{ ...a.valueCoding }] } };
  if (a.valueInteger !== undefined) return { valueInteger: a.valueInteger };
  if (a.valueDecimal !== undefined) return { valueQuantity: { value: a.valueDecimal } };
  if (a.valueQuantity) return { valueQuantity: { ...a.valueQuantity } };
  if (a.valueBoolean !== undefined) return { valueBoolean: a.valueBoolean };
  if (a.valueString !== undefined) return { valueString: a.valueString };
  if (a.valueDate !== undefined) return { valueDateTime: a.valueDate };
  if (a.valueDateTime !== undefined) return { valueDateTime: a.valueDateTime };
  if (a.valueTime !== undefined) return { valueTime: a.valueTime };
  return undefined;
}

/** Link ids of the Questionnaire's required items the response does not answer (enableWhen not weighed: the extracted instruments have none on required items). */
function unansweredRequired(q: Questionnaire, qr: QuestionnaireResponse): string[] {
  const out: string[] = [];
  const walk = (items: QuestionnaireItem[] | undefined) =>
    items?.forEach((item) => {
      if (item.required && item.type !== 'group' && item.type !== 'display' && !item.enableWhen && answersTo(qr, item.linkId).length === 0)
        out.push(item.linkId);
      if (!item.enableWhen) walk(item.item);
    });
  walk(q.item);
  return out;
}

/** The value of a calculated item: its calculatedExpression on the response; undefined when it has none. Throws 422 when it cannot be computed. */
export function calculatedAnswer(q: Questionnaire, qr: QuestionnaireResponse, item: QuestionnaireItem): QuestionnaireResponseItemAnswer | undefined {
  const expression = item.extension?.find((e) => e.url === CALCULATED)?.valueExpression;
  if (!expression?.expression || expression.language !== 'text/fhirpath') return undefined;
  const missing = unansweredRequired(q, qr);
  if (missing.length) {
    throw unprocessable(
      `No value of item '${item.linkId}' can be calculated: item${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not answered`,
      'QuestionnaireResponse.item',
    );
  }
  let result: unknown[];
  try {
    const { fhirpath, r4 } = fhirpathJs();
    result = fhirpath.evaluate(qr, expression.expression, { resource: qr, questionnaire: q }, r4) as unknown[];
  } catch (e) {
    throw unprocessable(`The calculatedExpression of item '${item.linkId}' fails on this response: ${(e as Error).message}`, 'QuestionnaireResponse');
  }
  const v = result[0];
  if (v === undefined) return undefined;
  switch (item.type) {
    case 'integer':
      return { valueInteger: Number(v) };
    case 'decimal':
      return { valueDecimal: Number(v) };
    case 'boolean':
      return { valueBoolean: Boolean(v) };
    case 'string':
    case 'text':
      return typeof v === 'string' || typeof v === 'number' ? { valueString: String(v) } : undefined;
    default:
      return typeof v === 'object' && v !== null && 'code' in v ? { valueCoding: v as Coding } : undefined;
  }
}

/** Whether two answers hold the same value (a stated calculated answer against the calculation). */
export function sameAnswer(a: QuestionnaireResponseItemAnswer, b: QuestionnaireResponseItemAnswer): boolean {
  return JSON.stringify(observationValue(a)) === JSON.stringify(observationValue(b));
}

/** The value of an answer, as text for messages. */
export function answerText(a: QuestionnaireResponseItemAnswer): string {
  const v = observationValue(a);
  const value: unknown = v ? Object.values(v)[0] : undefined;
  return value === undefined ? '(no value)' : JSON.stringify(value);
}
