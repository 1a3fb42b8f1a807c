/**
 * A person's peer support record read from the resources of `Patient/$everything` (docs/domain.md
 * says where each datum lives): pure functions, no DOM, so tests run them in Node too.
 */
export interface Coding {
  system?: string;
  code?: string;
  display?: string;
}
interface Concept {
  coding?: Coding[];
  text?: string;
}
interface Reference {
  reference?: string;
  display?: string;
}
interface Extension {
  url: string;
  valueCodeableConcept?: Concept;
  valueBoolean?: boolean;
  valueDate?: string;
  valueString?: string;
  valueReference?: Reference;
}
/** The fields the console reads, of any resource. */
export interface AnyResource {
  resourceType: string;
  id?: string;
  meta?: { security?: Coding[]; profile?: string[] };
  extension?: Extension[];
  [key: string]: unknown;
}

const PB = 'http://peerbridge.org/fhir';
export const PART2_CODE = '42CFRPart2';
export const IRC_QUESTIONNAIRE = `${PB}/Questionnaire/idaho-recovery-capital-scale`;
const MODES: Record<string, string> = { '453701000124103': 'In person', '185317003': 'Telephone', '448337001': 'Video' };

/** A string field, else ''. */
export const text = (v: unknown): string => (typeof v === 'string' ? v : '');
const codingOf = (c: Concept | undefined): Coding | undefined => c?.coding?.[0];
/** The display of a concept (its text, the first coding's display, else its code). */
export const label = (c: Concept | undefined): string => c?.text ?? codingOf(c)?.display ?? codingOf(c)?.code ?? '';
const exts = (r: { extension?: Extension[] } | undefined, name: string): Extension[] =>
  (r?.extension ?? []).filter((e) => e.url === `${PB}/StructureDefinition/${name}`);
const codeIs = (c: Concept | undefined, code: string): boolean => !!c?.coding?.some((x) => x.code === code);
const refId = (r: Reference | undefined): string | undefined => r?.reference?.split('/').pop();

export interface Criterion {
  code: string;
  display: string;
  /** POS met, NEG not met, IND unknown. */
  status: 'met' | 'not met' | 'unknown';
}
export interface Review {
  id: string;
  date: string;
  type: string;
  result: string;
  criteria: Criterion[];
}
export interface Contact {
  id: string;
  date: string;
  status: string;
  noShow: boolean;
  mode: string;
  place: string;
  location: string;
  minutes?: number;
  units?: number;
  interventions: string[];
  group: boolean;
}
export interface Goal {
  id: string;
  description: string;
  lifecycle: string;
  achievement: string;
  due?: string;
}
export interface Plan {
  id: string;
  title: string;
  status: string;
  created?: string;
  start?: string;
  end?: string;
  nextReview?: string;
  crisisPlan?: boolean;
  goals: Goal[];
}
export interface CapitalPoint {
  date: string;
  total: number;
  observationId: string;
  responseId?: string;
}
export interface Administration {
  id: string;
  date: string;
  /** Rating by item number 1..23. */
  ratings: (number | undefined)[];
  /** Statement by item number 1..23. */
  statements: string[];
}
export interface TimelineEvent {
  date: string;
  kind: 'referral' | 'episode' | 'review' | 'contact' | 'plan' | 'plan-review' | 'capital';
  title: string;
  detail: string;
  ref: string;
}
export interface PersonRecord {
  patient?: AnyResource;
  name: string;
  part2: boolean;
  episodes: { id: string; status: string; start?: string; end?: string; organization: string }[];
  referrals: { id: string; date: string; status: string; reasons: string[]; note: string }[];
  reviews: Review[];
  contacts: Contact[];
  plans: Plan[];
  capital: CapitalPoint[];
  administrations: Administration[];
  timeline: TimelineEvent[];
}

/** A person's name as written: text, else given names and family. */
export function personName(p: AnyResource | undefined): string {
  const names = (p?.name as { text?: string; given?: string[]; family?: string; use?: string }[] | undefined) ?? [];
  const n = names.find((x) => x.use === 'official') ?? names[0];
  if (!n) return p?.id ?? '';
  return n.text ?? [...(n.given ?? []), n.family].filter(Boolean).join(' ');
}

/** Is the resource labelled 42 CFR Part 2 (meta.security)? */
export const isPart2 = (r: AnyResource): boolean => !!r.meta?.security?.some((s) => s.code === PART2_CODE);

/** Date-times sort as instants; a date alone sorts as the start of its day. */
const instant = (d: string | undefined): number => (d ? Date.parse(d.length === 10 ? `${d}T00:00:00` : d) || 0 : 0);
const byDate = <T extends { date: string }>(a: T, b: T): number => instant(a.date) - instant(b.date);

export function personRecord(resources: AnyResource[]): PersonRecord {
  const of = (type: string): AnyResource[] => resources.filter((r) => r.resourceType === type);
  const patient = of('Patient')[0];
  const units = new Map<string, number>();
  for (const c of of('ChargeItem')) {
    const enc = refId(c.context as Reference | undefined);
    const q = (c.quantity as { value?: number } | undefined)?.value;
    if (enc && typeof q === 'number' && c.status !== 'entered-in-error') units.set(enc, (units.get(enc) ?? 0) + q);
  }

  const episodes = of('EpisodeOfCare').map((e) => {
    const period = e.period as { start?: string; end?: string } | undefined;
    return {
      id: e.id ?? '',
      status: text(e.status),
      start: period?.start,
      end: period?.end,
      organization: (e.managingOrganization as Reference | undefined)?.display ?? '',
    };
  });

  const referrals = of('ServiceRequest').map((s) => ({
    id: s.id ?? '',
    date: text(s.authoredOn ?? (s.occurrenceDateTime as string | undefined)),
    status: text(s.status),
    reasons: ((s.reasonCode as Concept[] | undefined) ?? []).map(label),
    note: ((s.note as { text?: string }[] | undefined) ?? []).map((n) => n.text ?? '').join(' '),
  }));

  const reviews: Review[] = of('Observation')
    .filter((o) => codeIs(o.code as Concept, 'eligibility-determination'))
    .map((o) => {
      const components = (o.component as { code?: Concept; valueCodeableConcept?: Concept; interpretation?: Concept[] }[] | undefined) ?? [];
      const type = components.find((c) => codeIs(c.code, 'review-type'));
      // One component per deciding criterion: its code the criterion, its value the status (met / not-met / unknown), as interpretation too.
      const criteria = components
        .filter((c) => !codeIs(c.code, 'review-type'))
        .map((c): Criterion => {
          const status = codingOf(c.valueCodeableConcept)?.code;
          const i = codingOf(c.interpretation?.[0])?.code;
          return {
            code: codingOf(c.code)?.code ?? '',
            display: label(c.code),
            status: status === 'met' || (!status && i === 'POS') ? 'met' : status === 'not-met' || (!status && i === 'NEG') ? 'not met' : 'unknown',
          };
        });
      return {
        id: o.id ?? '',
        date: text(o.effectiveDateTime),
        type: label(type?.valueCodeableConcept),
        result: label(o.valueCodeableConcept as Concept),
        criteria,
      };
    })
    .sort(byDate);

  const contacts: Contact[] = of('Encounter')
    .map((e) => {
      const types = (e.type as Concept[] | undefined) ?? [];
      const mode = types.map((t) => t.coding?.find((c) => c.code && MODES[c.code])).find(Boolean);
      const period = e.period as { start?: string } | undefined;
      const length = (e.length as { value?: number } | undefined)?.value;
      const location = ((e.location as { location?: Reference }[] | undefined) ?? [])
        .map((l) => l.location?.display ?? '')
        .filter(Boolean)
        .join(', ');
      return {
        id: e.id ?? '',
        date: period?.start ?? '',
        status: text(e.status),
        noShow: exts(e, 'no-show').some((x) => x.valueBoolean === true),
        mode: mode ? (mode.display ?? MODES[mode.code as string]) : '',
        place: exts(e, 'place-of-service')
          .map((x) => label(x.valueCodeableConcept))
          .join(', '),
        location,
        ...(typeof length === 'number' ? { minutes: length } : {}),
        ...(units.has(e.id ?? '') ? { units: units.get(e.id ?? '') } : {}),
        interventions: exts(e, 'peer-intervention').map((x) => label(x.valueCodeableConcept)),
        group: exts(e, 'group-contact').some((x) => x.valueBoolean === true),
      };
    })
    .sort(byDate);

  const goals = new Map(
    of('Goal').map((g) => [
      g.id ?? '',
      {
        id: g.id ?? '',
        description: label(g.description as Concept),
        lifecycle: text(g.lifecycleStatus),
        achievement: label(g.achievementStatus as Concept),
        due: ((g.target as { dueDate?: string }[] | undefined) ?? []).map((t) => t.dueDate).find(Boolean),
      } satisfies Goal,
    ]),
  );
  const planned = new Set<string>();
  const plans: Plan[] = of('CarePlan').map((c) => {
    const period = c.period as { start?: string; end?: string } | undefined;
    const own = ((c.goal as Reference[] | undefined) ?? []).map(refId).flatMap((id) => (id && goals.has(id) ? [goals.get(id) as Goal] : []));
    own.forEach((g) => planned.add(g.id));
    return {
      id: c.id ?? '',
      title: text(c.title) || 'Recovery plan',
      status: text(c.status),
      created: c.created as string | undefined,
      start: period?.start,
      end: period?.end,
      nextReview: exts(c, 'next-review-date')[0]?.valueDate,
      crisisPlan: exts(c, 'crisis-plan-present')[0]?.valueBoolean,
      goals: own,
    };
  });
  const loose = [...goals.values()].filter((g) => !planned.has(g.id));
  if (loose.length) plans.push({ id: '', title: 'Goals not in a plan', status: '', goals: loose });

  const capital: CapitalPoint[] = of('Observation')
    .filter((o) => codeIs(o.code as Concept, 'recovery-capital-total') && typeof o.valueInteger === 'number' && o.status !== 'entered-in-error')
    .map((o) => ({
      date: text(o.effectiveDateTime),
      total: o.valueInteger as number,
      observationId: o.id ?? '',
      responseId: refId((o.derivedFrom as Reference[] | undefined)?.[0]),
    }))
    .sort(byDate);

  const administrations: Administration[] = of('QuestionnaireResponse')
    .filter((q) => text(q.questionnaire).split('|')[0] === IRC_QUESTIONNAIRE)
    .map((q) => {
      const ratings: (number | undefined)[] = [];
      const statements: string[] = [];
      const walk = (
        items: { linkId?: string; text?: string; answer?: { valueCoding?: Coding; valueInteger?: number }[]; item?: unknown[] }[] | undefined,
      ): void => {
        for (const it of items ?? []) {
          const m = /^irc-(\d+)$/.exec(it.linkId ?? '');
          if (m) {
            const a = it.answer?.[0];
            const v = a?.valueInteger ?? (a?.valueCoding?.code !== undefined ? Number(a.valueCoding.code) : undefined);
            ratings[Number(m[1]) - 1] = Number.isFinite(v) ? v : undefined;
            statements[Number(m[1]) - 1] = it.text ?? '';
          }
          walk(it.item as typeof items);
        }
      };
      walk(q.item as Parameters<typeof walk>[0]);
      return { id: q.id ?? '', date: text(q.authored), ratings, statements };
    })
    .sort(byDate);

  const timeline: TimelineEvent[] = [
    ...referrals.map((r) => ({
      date: r.date,
      kind: 'referral' as const,
      title: 'Referral',
      detail: [r.status, ...r.reasons, r.note].filter(Boolean).join(' · '),
      ref: `ServiceRequest/${r.id}`,
    })),
    ...episodes.flatMap((e) => [
      ...(e.start
        ? [
            {
              date: e.start,
              kind: 'episode' as const,
              title: 'Episode started',
              detail: [e.organization, e.status].filter(Boolean).join(' · '),
              ref: `EpisodeOfCare/${e.id}`,
            },
          ]
        : []),
      ...(e.end ? [{ date: e.end, kind: 'episode' as const, title: 'Episode ended', detail: e.organization, ref: `EpisodeOfCare/${e.id}` }] : []),
    ]),
    ...reviews.map((r) => ({
      date: r.date,
      kind: 'review' as const,
      title: `Eligibility review: ${r.type || 'review'}`,
      detail: `${r.result}${
        r.criteria.length
          ? ` — ${
              r.criteria
                .filter((c) => c.status === 'met')
                .map((c) => c.code)
                .join(', ') || 'no criterion met'
            }`
          : ''
      }`,
      ref: `Observation/${r.id}`,
    })),
    ...contacts.map((c) => ({
      date: c.date,
      kind: 'contact' as const,
      title: c.noShow ? 'Contact: no-show' : `Contact${c.mode ? `: ${c.mode}` : ''}`,
      detail: [c.minutes !== undefined ? `${c.minutes} min` : '', c.units !== undefined ? `${c.units} units` : '', c.place, c.interventions.join(', ')]
        .filter(Boolean)
        .join(' · '),
      ref: `Encounter/${c.id}`,
    })),
    ...plans.flatMap((p) => [
      ...((p.created ?? p.start)
        ? [
            {
              date: (p.created ?? p.start) as string,
              kind: 'plan' as const,
              title: `Plan: ${p.title}`,
              detail: `${p.goals.length} goals · ${p.status}`,
              ref: `CarePlan/${p.id}`,
            },
          ]
        : []),
      ...(p.nextReview ? [{ date: p.nextReview, kind: 'plan-review' as const, title: 'Plan review due', detail: p.title, ref: `CarePlan/${p.id}` }] : []),
    ]),
    ...capital.map((c) => ({
      date: c.date,
      kind: 'capital' as const,
      title: 'Recovery capital',
      detail: `Total ${c.total} of 115`,
      ref: `Observation/${c.observationId}`,
    })),
  ]
    .filter((e) => e.date)
    .sort(byDate);

  return {
    patient,
    name: personName(patient),
    part2: resources.some(isPart2),
    episodes,
    referrals,
    reviews,
    contacts,
    plans,
    capital,
    administrations,
    timeline,
  };
}
