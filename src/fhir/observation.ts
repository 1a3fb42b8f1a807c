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

const SURVEY = [{ coding: [{ system: SYSTEMS.observationCategory, code: 'survey', display: 'Survey' }] }];

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

function base(d: DerivedFrom, profile: string | undefined): Observation {
  const qr = d.response;
  const out: Observation = {
    resourceType: 'Observation',
    id: d.id,
    ...metaFor(profile, d.part2),
    // A response still in progress yields a preliminary result; an amended one an amended result.
    status: qr.status === 'in-progress' ? 'preliminary' : qr.status === 'amended' ? 'amended' : 'final',
    category: SURVEY,
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
  const out = base(d, undefined);
  out.code = { coding: code.map((c) => ({ ...c })) };
  return { ...out, ...value };
}

/** The recovery capital total (23-115) of a complete administration. */
export function toRecoveryCapitalTotal(total: number, d: DerivedFrom, ctx: MapContext): Observation {
  const out = base(d, PROFILES.recoveryCapitalTotal);
  out.code = { coding: [pbCoding(ctx, 'peerbridge-codes', 'recovery-capital-total')] };
  out.valueInteger = total;
  return out;
}

/** The determination of an eligibility review; each deciding criterion is a component, its status the interpretation. */
export function toEligibilityDetermination(det: Determination, d: DerivedFrom, ctx: MapContext): Observation {
  const out = base(d, PROFILES.determination);
  const episode = d.response.extension?.find((e) => e.url === EXTENSIONS.episodeOfCare);
  if (episode) out.extension = [episode];
  out.code = { coding: [pbCoding(ctx, 'peerbridge-codes', 'eligibility-determination')] };
  out.valueCodeableConcept = { coding: [pbCoding(ctx, 'eligibility-result', det.result)] };
  const component = (code: string, value: ReturnType<typeof pbCoding>): ObservationComponent => ({
    code: { coding: [pbCoding(ctx, 'peerbridge-codes', code)] },
    valueCodeableConcept: { coding: [value] },
  });
  out.component = [
    component('review-type', pbCoding(ctx, 'eligibility-review-type', det.reviewType)),
    ...det.deciding.map((c) => ({
      ...component('deciding-criterion', pbCoding(ctx, 'eligibility-criterion', c.criterion)),
      interpretation: [{ coding: [{ system: SYSTEMS.observationInterpretation, ...INTERPRETATION[c.status] }] }],
    })),
  ];
  return out;
}
