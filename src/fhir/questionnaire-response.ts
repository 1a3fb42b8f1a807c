/**
 * Reviews and administrations <-> QuestionnaireResponse, answering the PeerBridge Questionnaires
 * (profiles/package): the eligibility review, the Idaho Recovery Capital Scale and the Supervisor
 * of Peer Workers Self-Assessment. Item texts come from the Questionnaires, word for word.
 */
import type { QuestionnaireResponse, QuestionnaireResponseItem, QuestionnaireResponseItemAnswer } from '@medplum/fhirtypes';
import type { EligibilityReviewRecord, EpisodeLink, RecoveryCapitalRecord, SupervisorAssessmentRecord } from '../domain/model';
import type { Criterion, CriterionStatus } from '../domain/codes';
import { CRITERIA } from '../domain/codes';
import { recoveryCapitalTotal } from '../domain/rules';
import { cs, EXTENSIONS, PROFILES, QUESTIONNAIRES } from './codes';
import { idFor, type MapContext, pbCoding, recordIdentifier, recordIdOf, refTo } from './context';
import { metaFor, put, type ResolveRef } from './common';

function item(ctx: MapContext, url: string, linkId: string, answer?: QuestionnaireResponseItemAnswer[]): QuestionnaireResponseItem {
  const def = ctx.terms.item(url, linkId);
  const out: QuestionnaireResponseItem = { linkId };
  put(out, 'text', def?.item.text);
  if (answer) out.answer = answer;
  return out;
}

/**
 * The response's `questionnaire`: the versioned canonical `url|version` of the Questionnaire in
 * PeerBridge's package (https://hl7.org/fhir/R4/references.html#canonical), so a reader knows
 * which edition of the instrument was answered; SDC extraction resolves it the same way.
 */
export function versioned(ctx: MapContext, url: string): string {
  const version = ctx.terms.questionnaire(url).version;
  return version ? `${url}|${version}` : url;
}

// --- Eligibility review ----------------------------------------------------------------------

export function toEligibilityResponse(r: EligibilityReviewRecord, episode: EpisodeLink, ctx: MapContext, part2: boolean): QuestionnaireResponse {
  const url = QUESTIONNAIRES.eligibility;
  const items: QuestionnaireResponseItem[] = [item(ctx, url, 'review-type', [{ valueCoding: pbCoding(ctx, 'eligibility-review-type', r.type) }])];
  const groups = new Map<string, QuestionnaireResponseItem>();
  for (const criterion of CRITERIA) {
    const status = r.criteria[criterion];
    if (status === undefined) continue;
    const def = ctx.terms.item(url, criterion);
    const groupId = def?.groups[0]?.linkId;
    const answered = item(ctx, url, criterion, [{ valueCoding: pbCoding(ctx, 'criterion-status', status) }]);
    if (!groupId) {
      items.push(answered);
      continue;
    }
    let group = groups.get(groupId);
    if (!group) {
      group = { ...item(ctx, url, groupId), item: [] };
      groups.set(groupId, group);
      items.push(group);
    }
    group.item?.push(answered);
  }
  const out: QuestionnaireResponse = {
    resourceType: 'QuestionnaireResponse',
    id: idFor(ctx, 'QuestionnaireResponse', `review/${r.id}`),
    ...metaFor(PROFILES.eligibilityResponse, part2),
    extension: [{ url: EXTENSIONS.episodeOfCare, valueReference: refTo(ctx, 'EpisodeOfCare', episode.id) }],
    identifier: recordIdentifier(ctx, 'review', r.id),
    questionnaire: versioned(ctx, url),
    status: 'completed',
    subject: refTo(ctx, 'Patient', episode.personId),
    authored: r.date,
  };
  if (r.reviewerId) out.author = refTo(ctx, 'PractitionerRole', r.reviewerId);
  out.item = items;
  return out;
}

/** Criterion statuses answered in an eligibility response, wherever the items sit. */
export function criteriaOf(qr: QuestionnaireResponse): Partial<Record<Criterion, CriterionStatus>> {
  const out: Partial<Record<Criterion, CriterionStatus>> = {};
  const walk = (items: QuestionnaireResponseItem[] | undefined) =>
    items?.forEach((i) => {
      if ((CRITERIA as readonly string[]).includes(i.linkId)) {
        const code = i.answer?.[0]?.valueCoding;
        if (code?.system === cs('criterion-status') && code.code) out[i.linkId as Criterion] = code.code as CriterionStatus;
      }
      walk(i.item);
    });
  walk(qr.item);
  return out;
}

export function reviewTypeOf(qr: QuestionnaireResponse): EligibilityReviewRecord['type'] | undefined {
  const c = qr.item?.find((i) => i.linkId === 'review-type')?.answer?.[0]?.valueCoding;
  return c?.system === cs('eligibility-review-type') ? (c.code as EligibilityReviewRecord['type']) : undefined;
}

export function fromEligibilityResponse(qr: QuestionnaireResponse, resolve: ResolveRef): EligibilityReviewRecord {
  const out: EligibilityReviewRecord = {
    id: recordIdOf(qr.identifier ? [qr.identifier] : [], 'review')?.value ?? (qr.id as string),
    type: reviewTypeOf(qr) as EligibilityReviewRecord['type'],
    date: qr.authored as string,
    criteria: criteriaOf(qr),
  };
  put(out, 'reviewerId', resolve(qr.author));
  return out;
}

// --- Rated scales (recovery capital, supervisor self-assessment) -----------------------------

function ratingItems(ctx: MapContext, url: string, prefix: string, codeSystemId: string, ratings: readonly (number | null)[]): QuestionnaireResponseItem[] {
  return ratings.flatMap((r, i) => (r === null ? [] : [item(ctx, url, `${prefix}${i + 1}`, [{ valueCoding: pbCoding(ctx, codeSystemId, String(r)) }])]));
}

function ratingsOf(qr: QuestionnaireResponse, prefix: string, count: number): (number | null)[] {
  const byLink = new Map((qr.item ?? []).map((i) => [i.linkId, i]));
  return Array.from({ length: count }, (_, i) => {
    const code = byLink.get(`${prefix}${i + 1}`)?.answer?.[0]?.valueCoding?.code;
    return code === undefined ? null : Number(code);
  });
}

function strings(ctx: MapContext, url: string, linkId: string, values: string[]): QuestionnaireResponseItem[] {
  return values.length
    ? [
        item(
          ctx,
          url,
          linkId,
          values.map((valueString) => ({ valueString })),
        ),
      ]
    : [];
}

const stringsOf = (qr: QuestionnaireResponse, linkId: string): string[] =>
  qr.item?.find((i) => i.linkId === linkId)?.answer?.map((a) => a.valueString as string) ?? [];

export function toRecoveryCapitalResponse(a: RecoveryCapitalRecord, ctx: MapContext, part2: boolean): QuestionnaireResponse {
  const url = QUESTIONNAIRES.recoveryCapital;
  const { total } = recoveryCapitalTotal(a.answers);
  const person = refTo(ctx, 'Patient', a.personId);
  const out: QuestionnaireResponse = {
    resourceType: 'QuestionnaireResponse',
    id: idFor(ctx, 'QuestionnaireResponse', `administration/${a.id}`),
    ...metaFor(PROFILES.recoveryCapitalResponse, part2),
    identifier: recordIdentifier(ctx, 'administration', a.id),
    questionnaire: versioned(ctx, url),
    // An administration with an item not answered is not complete (every item is required).
    status: total === undefined ? 'in-progress' : 'completed',
    subject: person,
  };
  if (a.contactId) out.encounter = refTo(ctx, 'Encounter', a.contactId);
  out.authored = a.date;
  out.author = person;
  out.source = person;
  const items = [
    ...ratingItems(ctx, url, 'irc-', 'recovery-capital-agreement', a.answers),
    ...(total === undefined ? [] : [item(ctx, url, 'total', [{ valueInteger: total }])]),
    ...strings(ctx, url, 'areas-to-increase', a.areasToIncrease),
    ...strings(ctx, url, 'next-week-activities', a.nextWeekActivities),
    ...strings(ctx, url, 'helpers', a.helpers),
  ];
  // Nothing answered: no item at all (FHIR forbids an empty array).
  if (items.length) out.item = items;
  return out;
}

export function fromRecoveryCapitalResponse(qr: QuestionnaireResponse, resolve: ResolveRef): RecoveryCapitalRecord {
  const out: RecoveryCapitalRecord = {
    id: recordIdOf(qr.identifier ? [qr.identifier] : [], 'administration')?.value ?? (qr.id as string),
    personId: resolve(qr.subject) as string,
    date: qr.authored as string,
    answers: ratingsOf(qr, 'irc-', 23),
    areasToIncrease: stringsOf(qr, 'areas-to-increase'),
    nextWeekActivities: stringsOf(qr, 'next-week-activities'),
    helpers: stringsOf(qr, 'helpers'),
  };
  put(out, 'contactId', resolve(qr.encounter));
  return out;
}

export function toSupervisorResponse(s: SupervisorAssessmentRecord, ctx: MapContext): QuestionnaireResponse {
  const url = QUESTIONNAIRES.supervisor;
  const supervisor = refTo(ctx, 'PractitionerRole', s.supervisorId);
  const out: QuestionnaireResponse = {
    resourceType: 'QuestionnaireResponse',
    id: idFor(ctx, 'QuestionnaireResponse', `assessment/${s.id}`),
    ...metaFor(PROFILES.supervisorResponse, false),
    identifier: recordIdentifier(ctx, 'assessment', s.id),
    questionnaire: versioned(ctx, url),
    status: s.ratings.includes(null) ? 'in-progress' : 'completed',
    subject: supervisor,
    authored: s.date,
    author: supervisor,
  };
  const items = ratingItems(ctx, url, 'sup-', 'supervisor-competency-rating', s.ratings);
  if (items.length) out.item = items;
  return out;
}

export function fromSupervisorResponse(qr: QuestionnaireResponse, resolve: ResolveRef): SupervisorAssessmentRecord {
  return {
    id: recordIdOf(qr.identifier ? [qr.identifier] : [], 'assessment')?.value ?? (qr.id as string),
    supervisorId: resolve(qr.subject) as string,
    date: qr.authored as string,
    ratings: ratingsOf(qr, 'sup-', 11),
  };
}
