/**
 * SDC `$extract`, observation-based
 * (http://hl7.org/fhir/uv/sdc/OperationDefinition/QuestionnaireResponse-extract,
 * http://hl7.org/fhir/uv/sdc/extraction.html#observation-based-extraction), driven by the
 * Questionnaire's own markup (sdc-markup.ts): each item with an `item.code` that
 * `sdc-questionnaire-observationExtract` marks yields an Observation of that code per answer (a
 * calculated item left unanswered: its calculatedExpression). Two codes of PeerBridge's get its
 * profiled Observations: `recovery-capital-total` (the Idaho Recovery Capital Scale's total) and
 * `eligibility-determination`, whose value is the program's eligibility rule set applied to the
 * criteria answered (a rule, not an answer). The answer is a transaction Bundle of the
 * Observations (PUT to ids derived from the response's id and the item's code, so a second
 * `$extract` of the same response updates rather than duplicates).
 *
 * The Questionnaire: the `questionnaire` parameter (Parameters input), one contained in the
 * response (`#id`), or one of PeerBridge's package (`url` or `url|version`).
 */
import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, Coding, Observation, Questionnaire, QuestionnaireResponse, Resource } from '@medplum/fhirtypes';
import type { RuleSet } from '../domain/rules';
import { determine } from '../domain/rules';
import { cs } from '../fhir/codes';
import type { MapContext, PackageTerms } from '../fhir/context';
import { derivedObservationId, toEligibilityDetermination, toExtractedObservation, toRecoveryCapitalTotal, type DerivedFrom } from '../fhir/observation';
import { criteriaOf, reviewTypeOf } from '../fhir/questionnaire-response';
import { badRequest, operationOutcome, unprocessable } from '../outcomes';
import { type BodyValidator, bodyValidator, type Validator } from '../validation';
import { parameterList } from '../fhir/parameters';
import { answersTo, answerText, calculatedAnswer, markedItems, observationValue, sameAnswer, type MarkedItem } from './sdc-markup';

export interface ExtractDeps {
  validator: Validator;
  /** Where the response and the extracted Bundle are validated (the app's worker pool); `validator` in this thread when absent. */
  validation?: BodyValidator;
  rules: RuleSet;
  terms: PackageTerms;
}

/** Source system of the mapping context (extraction makes no source-record identifiers of its own). */
const EXTRACT_SOURCE = 'urn:peerbridge:extract';

/** What `$extract` works on: the response, and the Questionnaire when the caller gave it. */
export interface ExtractInput {
  response: QuestionnaireResponse;
  questionnaire?: Questionnaire;
}

/** The input of an `$extract` body: the response itself, or Parameters `questionnaire-response` (and optionally `questionnaire`). */
export function extractInput(body: unknown): ExtractInput {
  const r = (body && typeof body === 'object' && !Array.isArray(body) ? body : undefined) as Resource | undefined;
  if (r?.resourceType === 'Parameters') {
    const list = parameterList(r as unknown as Record<string, unknown>);
    const p = list.find((x) => x.name === 'questionnaire-response')?.resource;
    if (p?.resourceType !== 'QuestionnaireResponse') {
      throw badRequest('Parameters must carry a "questionnaire-response" parameter holding a QuestionnaireResponse', 'Parameters.parameter');
    }
    const q = list.find((x) => x.name === 'questionnaire');
    if (q && q.resource?.resourceType !== 'Questionnaire') {
      throw badRequest('The "questionnaire" parameter must hold a Questionnaire', "Parameters.parameter.where(name='questionnaire')");
    }
    return q ? { response: p, questionnaire: q.resource as Questionnaire } : { response: p };
  }
  if (r?.resourceType !== 'QuestionnaireResponse') {
    throw badRequest(`$extract takes a QuestionnaireResponse (or Parameters with questionnaire-response), got ${r?.resourceType ?? 'no resource'}`);
  }
  return { response: r };
}

/** The Questionnaire the response answers (see the file comment); 422 when none is known. */
function questionnaireOf(qr: QuestionnaireResponse, given: Questionnaire | undefined, terms: PackageTerms): Questionnaire {
  const canonical = qr.questionnaire ?? '';
  const where = 'QuestionnaireResponse.questionnaire';
  if (canonical.startsWith('#')) {
    const q = qr.contained?.find((c) => c.resourceType === 'Questionnaire' && c.id === canonical.slice(1));
    if (!q) throw unprocessable(`The response names ${canonical}, which it does not contain`, where);
    return q as Questionnaire;
  }
  const [url, version] = canonical.split('|');
  if (given) {
    if (given.url !== url || (version && given.version && given.version !== version)) {
      throw unprocessable(
        `The questionnaire given is ${given.url}${given.version ? `|${given.version}` : ''}, but the response answers ${canonical || '(none)'}`,
        where,
      );
    }
    return given;
  }
  let q: Questionnaire;
  try {
    q = terms.questionnaire(url);
  } catch {
    throw unprocessable(
      `The Questionnaire ${canonical || '(none)'} is not known here: give it as the "questionnaire" parameter (Parameters input) or contain it in the response`,
      where,
    );
  }
  if (version && q.version && version !== q.version) {
    throw unprocessable(`Version ${version} of ${url} is not known here (${q.version} is)`, where);
  }
  return q;
}

const PB_CODES = cs('peerbridge-codes');
const isCode = (codes: Coding[], code: string) => codes.some((c) => c.system === PB_CODES && c.code === code);

/** Runs `$extract` on a response; throws 422 OperationOutcomes for responses it cannot extract from. */
export async function extractObservations(input: ExtractInput | QuestionnaireResponse, deps: ExtractDeps): Promise<Bundle> {
  const { response: qr, questionnaire } = 'response' in input ? input : { response: input, questionnaire: undefined };
  // Only answers someone stands behind are extracted (SDC: extraction works on the response as it is).
  if (qr.status === 'entered-in-error' || qr.status === 'stopped') {
    throw unprocessable(`The response's status is ${qr.status}: nothing to extract`, 'QuestionnaireResponse.status');
  }
  const checked = await bodyValidator(deps).validate(qr);
  if (!checked.valid) {
    throw unprocessable(checked.outcome);
  }
  const q = questionnaireOf(qr, questionnaire, deps.terms);
  const marked = markedItems(q);
  if (marked.length === 0) {
    throw unprocessable(
      `The Questionnaire ${q.url ?? qr.questionnaire} marks no item for observation-based extraction (an item.code with the sdc-questionnaire-observationExtract extension): nothing to extract`,
      'QuestionnaireResponse.questionnaire',
    );
  }
  const ctx: MapContext = { source: EXTRACT_SOURCE, rules: deps.rules, terms: deps.terms };
  const entries: BundleEntry[] = [];
  let responseRef: { reference: string };
  if (qr.id) {
    responseRef = { reference: `QuestionnaireResponse/${qr.id}` };
  } else {
    // A response without an id travels in the Bundle so the Observations can point at it.
    const fullUrl = `urn:uuid:${randomUUID()}`;
    entries.push({ fullUrl, resource: qr, request: { method: 'POST', url: 'QuestionnaireResponse' } });
    responseRef = { reference: fullUrl };
  }
  const part2 = (qr.meta?.security ?? []).some((s) => s.code === '42CFRPart2');
  const derived = (kind: string): DerivedFrom => ({ id: qr.id ? derivedObservationId(qr.id, kind) : randomUUID(), response: qr, responseRef, part2 });

  const observations = marked.flatMap((m) => extractItem(m, q, qr, ctx, derived));
  if (observations.length === 0) {
    throw unprocessable(
      `Nothing to extract: the items marked for extraction (${marked.map((m) => m.item.linkId).join(', ')}) are not answered`,
      'QuestionnaireResponse.item',
    );
  }
  for (const observation of observations) {
    if (!qr.id) {
      // No deterministic id without the response's id: the Observation is created, not put.
      const { id: _omit, ...rest } = observation;
      entries.push({ fullUrl: `urn:uuid:${observation.id}`, resource: rest, request: { method: 'POST', url: 'Observation' } });
    } else {
      entries.push({ fullUrl: `urn:uuid:${observation.id}`, resource: observation, request: { method: 'PUT', url: `Observation/${observation.id}` } });
    }
  }
  const bundle: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: entries };
  const result = await bodyValidator(deps).validate(bundle);
  if (!result.valid) {
    const { issue = [] } = operationOutcome('processing', 'The extracted Observations do not validate against their profiles');
    throw unprocessable({ resourceType: 'OperationOutcome', issue: [...issue, ...result.issues] });
  }
  return bundle;
}

/** The Observations of one marked item: one per answer (or its calculated value); PeerBridge's two codes get their profiled Observation. */
function extractItem(m: MarkedItem, q: Questionnaire, qr: QuestionnaireResponse, ctx: MapContext, derived: (kind: string) => DerivedFrom): Observation[] {
  const { item, code } = m;
  if (isCode(code, 'eligibility-determination')) {
    // The value is the rule set's determination over the criteria answered, not an answer.
    const type = reviewTypeOf(qr);
    if (!type) {
      throw unprocessable('The response has no review type answer', "QuestionnaireResponse.item.where(linkId='review-type')");
    }
    return [toEligibilityDetermination(determine(type, criteriaOf(qr), ctx.rules.eligibility), derived('eligibility-determination'), ctx)];
  }
  const stated = answersTo(qr, item.linkId);
  const calculated = calculatedAnswer(q, qr, item);
  if (calculated && stated.length && !sameAnswer(stated[0], calculated)) {
    throw unprocessable(
      `The response's item '${item.linkId}' says ${answerText(stated[0])}, but its calculatedExpression gives ${answerText(calculated)}`,
      `QuestionnaireResponse.item.where(linkId='${item.linkId}')`,
    );
  }
  const answers = stated.length ? stated : calculated ? [calculated] : [];
  const kind = code[0].code ?? item.linkId;
  return answers.flatMap((a, n) => {
    const value = observationValue(a);
    if (!value) return [];
    const d = derived(n === 0 ? kind : `${kind}-${n + 1}`);
    if (isCode(code, 'recovery-capital-total') && value.valueInteger !== undefined) return [toRecoveryCapitalTotal(value.valueInteger, d, ctx)];
    return [toExtractedObservation(code, value, d)];
  });
}
