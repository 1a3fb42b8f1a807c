/**
 * SDC `$extract`, observation-based
 * (http://hl7.org/fhir/uv/sdc/OperationDefinition/QuestionnaireResponse-extract): a response to
 * the Idaho Recovery Capital Scale yields the total Observation; a response to the eligibility
 * review yields the determination Observation with the criteria that decided it. The answer is a
 * transaction Bundle of those Observations (PUT to ids derived from the response's id, so a
 * second `$extract` of the same response updates rather than duplicates).
 */
import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, Observation, QuestionnaireResponse, Resource } from '@medplum/fhirtypes';
import type { RuleSet } from '../domain/rules';
import { determine, recoveryCapitalTotal } from '../domain/rules';
import { QUESTIONNAIRES } from '../fhir/codes';
import type { MapContext, PackageTerms } from '../fhir/context';
import { derivedObservationId, toEligibilityDetermination, toRecoveryCapitalTotal, type DerivedFrom } from '../fhir/observation';
import { criteriaOf, reviewTypeOf } from '../fhir/questionnaire-response';
import { badRequest, operationOutcome, unprocessable } from '../outcomes';
import { type BodyValidator, bodyValidator, type Validator } from '../validation';
import { parameterList } from '../fhir/parameters';

export interface ExtractDeps {
  validator: Validator;
  /** Where the response and the extracted Bundle are validated (the app's worker pool); `validator` in this thread when absent. */
  validation?: BodyValidator;
  rules: RuleSet;
  terms: PackageTerms;
}

/** Source system of the mapping context (extraction makes no source-record identifiers of its own). */
const EXTRACT_SOURCE = 'urn:peerbridge:extract';

/** The QuestionnaireResponse of an `$extract` body: the resource itself, or Parameters `questionnaire-response`. */
export function extractInput(body: unknown): QuestionnaireResponse {
  const r = (body && typeof body === 'object' && !Array.isArray(body) ? body : undefined) as Resource | undefined;
  if (r?.resourceType === 'Parameters') {
    const p = parameterList(r as unknown as Record<string, unknown>).find((x) => x.name === 'questionnaire-response')?.resource;
    if (p?.resourceType !== 'QuestionnaireResponse') {
      throw badRequest('Parameters must carry a "questionnaire-response" parameter holding a QuestionnaireResponse', 'Parameters.parameter');
    }
    return p;
  }
  if (r?.resourceType !== 'QuestionnaireResponse') {
    throw badRequest(`$extract takes a QuestionnaireResponse (or Parameters with questionnaire-response), got ${r?.resourceType ?? 'no resource'}`);
  }
  return r;
}

/** Runs `$extract` on a response; throws 422 OperationOutcomes for responses it cannot extract from. */
export async function extractObservations(qr: QuestionnaireResponse, deps: ExtractDeps): Promise<Bundle> {
  // Only answers someone stands behind are extracted (SDC: extraction works on the response as it is).
  if (qr.status === 'entered-in-error' || qr.status === 'stopped') {
    throw unprocessable(`The response's status is ${qr.status}: nothing to extract`, 'QuestionnaireResponse.status');
  }
  const checked = await bodyValidator(deps).validate(qr);
  if (!checked.valid) {
    throw unprocessable(checked.outcome);
  }
  const url = (qr.questionnaire ?? '').split('|')[0];
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
  const derived = (kind: 'recovery-capital-total' | 'eligibility-determination'): DerivedFrom => ({
    id: qr.id ? derivedObservationId(qr.id, kind) : randomUUID(),
    response: qr,
    responseRef,
    part2,
  });

  let observation: Observation;
  if (url === QUESTIONNAIRES.recoveryCapital) {
    const answers = Array.from({ length: 23 }, (_, i) => {
      const code = qr.item?.find((it) => it.linkId === `irc-${i + 1}`)?.answer?.[0]?.valueCoding?.code;
      return code === undefined ? null : Number(code);
    });
    const result = recoveryCapitalTotal(answers);
    if (result.total === undefined) {
      const items = result.missing.map((n) => `irc-${n}`).join(', ');
      throw unprocessable(`No total can be extracted: item${result.missing.length > 1 ? 's' : ''} ${items} not answered`, 'QuestionnaireResponse.item');
    }
    const stated = qr.item?.find((it) => it.linkId === 'total')?.answer?.[0]?.valueInteger;
    if (stated !== undefined && stated !== result.total) {
      throw unprocessable(
        `The response's total item says ${stated}, but its 23 answers sum to ${result.total}`,
        "QuestionnaireResponse.item.where(linkId='total')",
      );
    }
    observation = toRecoveryCapitalTotal(result.total, derived('recovery-capital-total'), ctx);
  } else if (url === QUESTIONNAIRES.eligibility) {
    const type = reviewTypeOf(qr);
    if (!type) {
      throw unprocessable('The response has no review type answer', "QuestionnaireResponse.item.where(linkId='review-type')");
    }
    observation = toEligibilityDetermination(determine(type, criteriaOf(qr), deps.rules.eligibility), derived('eligibility-determination'), ctx);
  } else {
    throw unprocessable(
      `$extract supports responses to ${QUESTIONNAIRES.recoveryCapital} and ${QUESTIONNAIRES.eligibility}, not ${url || '(no questionnaire)'}`,
      'QuestionnaireResponse.questionnaire',
    );
  }
  if (!qr.id) {
    // No deterministic id without the response's id: the Observation is created, not put.
    const { id: _omit, ...rest } = observation;
    entries.push({ fullUrl: `urn:uuid:${observation.id}`, resource: rest, request: { method: 'POST', url: 'Observation' } });
  } else {
    entries.push({ fullUrl: `urn:uuid:${observation.id}`, resource: observation, request: { method: 'PUT', url: `Observation/${observation.id}` } });
  }
  const bundle: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: entries };
  const result = await bodyValidator(deps).validate(bundle);
  if (!result.valid) {
    const { issue = [] } = operationOutcome('processing', 'The extracted Observations do not validate against their profiles');
    throw unprocessable({ resourceType: 'OperationOutcome', issue: [...issue, ...result.issues] });
  }
  return bundle;
}
