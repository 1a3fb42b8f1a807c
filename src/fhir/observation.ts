/**
 * Observations derived from QuestionnaireResponses (SDC observation-based extraction,
 * http://hl7.org/fhir/uv/sdc/extraction.html#observation-based-extraction): the recovery capital
 * total and the eligibility determination with the criteria that decided it. Both are derived, so
 * they have no way back to canonical: the response is the record.
 */
import type { Coding, Observation, ObservationComponent, QuestionnaireResponse, Reference } from '@medplum/fhirtypes';
import type { Determination } from '../domain/rules';
import { EXTENSIONS, PROFILES, SYSTEMS } from './codes';
import { type MapContext, pbCoding } from './context';
import { metaFor } from './common';
import { resourceId } from './ids';

/**
 * The id of the Observation derived from a response: the same whether it is made by the canonical
 * pipeline or by `$extract`, so extracting a stored response updates its Observation.
 */
export function derivedObservationId(responseId: string, kind: string): string {
  return resourceId('urn:peerbridge:derived', `Observation/${kind}`, responseId);
}

/** US Core screening-assessment: category survey, and (where one of US Core's four applies) a us-core-category code. */
const SURVEY = { coding: [{ system: SYSTEMS.observationCategory, code: 'survey', display: 'Survey' }] };
/** The recovery capital scale's items are social determinants (housing, money, work, transport, support): sdoh. */
const SDOH = { coding: [{ system: SYSTEMS.usCoreCategory, code: 'sdoh', display: 'SDOH' }] };

const INTERPRETATION = {
  met: { code: 'POS', display: 'Positive' },
  'not-met': { code: 'NEG', display: 'Negative' },
  unknown: { code: 'IND', display: 'Indeterminate' },
} as const;

/** Where the derived Observation comes from: the response, and the id it gets. */
export interface DerivedFrom {
  id: string;
  response: QuestionnaireResponse;
  /** Reference to the response (`QuestionnaireResponse/<id>` or a Bundle `urn:uuid:`). */
  responseRef: Reference;
  part2: boolean;
}

function base(d: DerivedFrom, profile: string | undefined, category: Observation['category']): Observation {
  const qr = d.response;
  const out: Observation = {
    resourceType: 'Observation',
    id: d.id,
    ...metaFor(profile, d.part2),
    // A response still in progress yields a preliminary result; an amended one an amended result.
    status: qr.status === 'in-progress' ? 'preliminary' : qr.status === 'amended' ? 'amended' : 'final',
    category,
    code: { coding: [] },
  };
  if (qr.identifier) out.identifier = [qr.identifier];
  out.subject = qr.subject as Observation['subject'];
  if (qr.encounter) out.encounter = qr.encounter;
  out.effectiveDateTime = qr.authored;
  if (qr.author) out.performer = [qr.author as NonNullable<Observation['performer']>[number]];
  out.derivedFrom = [d.responseRef as NonNullable<Observation['derivedFrom']>[number]];
  return out;
}

/** The value elements an Observation takes from an answer (SDC: a Coding becomes a CodeableConcept, a decimal a Quantity without unit). */
export type ObservationValue = Pick<
  Observation,
  'valueCodeableConcept' | 'valueQuantity' | 'valueString' | 'valueBoolean' | 'valueInteger' | 'valueDateTime' | 'valueTime' | 'valuePeriod'
>;

/**
 * An Observation extracted from an item of a Questionnaire that is marked for it but has no
 * profile of PeerBridge's (SDC observation-based extraction: the item's code, the answer's value).
 */
export function toExtractedObservation(code: Coding[], value: ObservationValue, d: DerivedFrom): Observation {
  const out = base(d, undefined, [SURVEY]);
  out.code = { coding: code.map((c) => ({ ...c })) };
  return { ...out, ...value };
}

/** The recovery capital total (23-115) of a complete administration. */
export function toRecoveryCapitalTotal(total: number, d: DerivedFrom, ctx: MapContext): Observation {
  const out = base(d, PROFILES.recoveryCapitalTotal, [SURVEY, SDOH]);
  out.code = { coding: [pbCoding(ctx, 'peerbridge-codes', 'recovery-capital-total')] };
  out.valueInteger = total;
  return out;
}

/**
 * The determination of an eligibility review: the review type as a component, then one component per
 * criterion that decided it, its code the criterion and its value the status (met / not met / unknown,
 * criterion-status), with the status as v3 interpretation too (POS / NEG / IND).
 */
export function toEligibilityDetermination(det: Determination, d: DerivedFrom, ctx: MapContext): Observation {
  const out = base(d, PROFILES.determination, [SURVEY]);
  const episode = d.response.extension?.find((e) => e.url === EXTENSIONS.episodeOfCare);
  if (episode) out.extension = [episode];
  out.code = { coding: [pbCoding(ctx, 'peerbridge-codes', 'eligibility-determination')] };
  out.valueCodeableConcept = { coding: [pbCoding(ctx, 'eligibility-result', det.result)] };
  const component = (code: ReturnType<typeof pbCoding>, value: ReturnType<typeof pbCoding>): ObservationComponent => ({
    code: { coding: [code] },
    valueCodeableConcept: { coding: [value] },
  });
  out.component = [
    component(pbCoding(ctx, 'peerbridge-codes', 'review-type'), pbCoding(ctx, 'eligibility-review-type', det.reviewType)),
    ...det.deciding.map((c) => ({
      ...component(pbCoding(ctx, 'eligibility-criterion', c.criterion), pbCoding(ctx, 'criterion-status', c.status)),
      interpretation: [{ coding: [{ system: SYSTEMS.observationInterpretation, ...INTERPRETATION[c.status] }] }],
    })),
  ];
  return out;
}
