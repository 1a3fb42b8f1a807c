/**
 * Rules as data, evaluated in code (docs/domain.md#rules-as-data): billing units, eligibility
 * determinations and recovery capital totals. The defaults live in `rules/default.json`; a program
 * points `RULES_FILE` at its own copy. A rule file is checked with zod when it is loaded and a bad
 * one stops start-up naming the field.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { CRITERIA, ELIGIBILITY_RESULTS, REVIEW_TYPES, type Criterion, type CriterionStatus, type EligibilityResult, type ReviewType } from './codes';

/** A boolean rule over criteria: a criterion id, or any / all / not of rules. */
export type RuleExpr = Criterion | { any: RuleExpr[] } | { all: RuleExpr[] } | { not: RuleExpr };

const RuleExprSchema: z.ZodType<RuleExpr> = z.lazy(() =>
  z.union([
    z.enum(CRITERIA),
    z.strictObject({ any: z.array(RuleExprSchema).min(1) }),
    z.strictObject({ all: z.array(RuleExprSchema).min(1) }),
    z.strictObject({ not: RuleExprSchema }),
  ]),
);

/** Every criterion a rule names. */
function leaves(expr: RuleExpr): Criterion[] {
  if (typeof expr === 'string') return [expr];
  if ('not' in expr) return leaves(expr.not);
  return ('any' in expr ? expr.any : expr.all).flatMap(leaves);
}

const ReviewRuleSchema = z
  .strictObject({
    /** The criteria a review of this type may answer. */
    criteria: z.array(z.enum(CRITERIA)).min(1),
    rule: RuleExprSchema,
    whenTrue: z.enum(ELIGIBILITY_RESULTS),
    whenFalse: z.enum(ELIGIBILITY_RESULTS),
  })
  .superRefine((r, ctx) => {
    // A criterion the review cannot answer would always be unknown: the rule could never decide.
    for (const c of leaves(r.rule)) {
      if (!r.criteria.includes(c)) ctx.addIssue({ code: 'custom', path: ['rule'], message: `The rule names ${c}, which is not among this review's criteria` });
    }
  });

export const RuleSetSchema = z.strictObject({
  $comment: z.string().optional(),
  billing: z.strictObject({
    /** The HCPCS service code; the peer support profiles fix it to H0038. */
    code: z.literal('H0038'),
    minutesPerUnit: z.number().int().positive(),
    /** A remainder of at least this many minutes counts as one more unit. */
    minimumRemainderMinutes: z.number().int().positive(),
    /** Cap of units per person per calendar day across contacts; null = no cap. */
    maxUnitsPerPersonPerDay: z.number().int().positive().nullable(),
  }),
  eligibility: z.strictObject(Object.fromEntries(REVIEW_TYPES.map((t) => [t, ReviewRuleSchema])) as Record<ReviewType, typeof ReviewRuleSchema>),
});

export type RuleSet = z.infer<typeof RuleSetSchema>;

export const DEFAULT_RULES_FILE = join(__dirname, '..', '..', 'rules', 'default.json');

/** Loads and checks a rule file; throws an Error naming the file and each bad field. */
export function loadRules(file: string = DEFAULT_RULES_FILE): RuleSet {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`Rule file ${file}: ${(err as Error).message}`);
  }
  const parsed = RuleSetSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`Rule file ${file} is invalid:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

// --- Billing units ---------------------------------------------------------------------------

/** Units for one contact before any daily cap: whole units plus one for a large enough remainder. */
export function billingUnits(minutes: number, rules: RuleSet['billing']): number {
  const whole = Math.floor(minutes / rules.minutesPerUnit);
  const remainder = minutes - whole * rules.minutesPerUnit;
  return whole + (remainder >= rules.minimumRemainderMinutes ? 1 : 0);
}

/**
 * Applies the per-person daily cap in the order contacts are seen. `used` holds the units already
 * billed per `person|day` and is updated; the caller keeps it across records of one run.
 */
export function cappedUnits(units: number, personDay: string, used: Map<string, number>, rules: RuleSet['billing']): number {
  const cap = rules.maxUnitsPerPersonPerDay;
  const before = used.get(personDay) ?? 0;
  const granted = cap === null ? units : Math.max(0, Math.min(units, cap - before));
  used.set(personDay, before + granted);
  return granted;
}

// --- Eligibility -----------------------------------------------------------------------------

type Truth = 'true' | 'false' | 'unknown';

/** A criterion that decided a determination, with the status that decided it. */
export interface DecidingCriterion {
  criterion: Criterion;
  status: CriterionStatus;
}

export interface Determination {
  reviewType: ReviewType;
  result: EligibilityResult;
  /** The criteria whose statuses decided the result (for `indeterminate`: the unknown ones that could change it). */
  deciding: DecidingCriterion[];
}

interface Evaluated {
  value: Truth;
  /** Leaves that explain the value. */
  because: Criterion[];
}

/**
 * Three-valued (Kleene) evaluation: a criterion that is `unknown` (or not answered) is unknown;
 * `any` is true when one child is true, false when all are false, else unknown; `all` the dual.
 * The explanation of a true `any` is its true children; of a false `any`, all children; of an
 * unknown result, the unknown children that could still change it.
 */
function evaluate(expr: RuleExpr, statuses: Partial<Record<Criterion, CriterionStatus>>): Evaluated {
  if (typeof expr === 'string') {
    const status = statuses[expr] ?? 'unknown';
    return { value: status === 'met' ? 'true' : status === 'not-met' ? 'false' : 'unknown', because: [expr] };
  }
  if ('not' in expr) {
    const inner = evaluate(expr.not, statuses);
    return { value: inner.value === 'true' ? 'false' : inner.value === 'false' ? 'true' : 'unknown', because: inner.because };
  }
  const children = ('any' in expr ? expr.any : expr.all).map((e) => evaluate(e, statuses));
  const [decisive, other]: Truth[] = 'any' in expr ? ['true', 'false'] : ['false', 'true'];
  const pick = (v: Truth) => children.filter((c) => c.value === v).flatMap((c) => c.because);
  if (children.some((c) => c.value === decisive)) {
    return { value: decisive, because: pick(decisive) };
  }
  if (children.every((c) => c.value === other)) {
    return { value: other, because: pick(other) };
  }
  return { value: 'unknown', because: pick('unknown') };
}

/** Determines the result of a review under the rule set. Never guesses: unknowns that matter give `indeterminate`. */
export function determine(reviewType: ReviewType, statuses: Partial<Record<Criterion, CriterionStatus>>, rules: RuleSet['eligibility']): Determination {
  const rule = rules[reviewType];
  const { value, because } = evaluate(rule.rule, statuses);
  const result: EligibilityResult = value === 'true' ? rule.whenTrue : value === 'false' ? rule.whenFalse : 'indeterminate';
  const seen = new Set<Criterion>();
  const deciding = because
    .filter((c) => !seen.has(c) && seen.add(c))
    .sort((a, b) => CRITERIA.indexOf(a) - CRITERIA.indexOf(b))
    .map((criterion) => ({ criterion, status: statuses[criterion] ?? 'unknown' }));
  return { reviewType, result, deciding };
}

// --- Recovery capital ------------------------------------------------------------------------

export type TotalResult = { total: number; missing: [] } | { total: undefined; missing: number[] };

/** Total of an administration (23-115), or the 1-based numbers of the items not answered. */
export function recoveryCapitalTotal(answers: readonly (number | null)[]): TotalResult {
  const missing = answers.flatMap((a, i) => (a === null ? [i + 1] : []));
  if (missing.length > 0) {
    return { total: undefined, missing };
  }
  return { total: (answers as number[]).reduce((s, a) => s + a, 0), missing: [] };
}

export interface RecoveryCapitalChange {
  personId: string;
  administrationId: string;
  date: string;
  total: number;
  previousAdministrationId?: string;
  previousTotal?: number;
  /** total - previousTotal; undefined for a person's first scored administration. */
  change?: number;
}

/** Change since each person's previous scored administration, in date order. */
export function recoveryCapitalChanges(scored: { personId: string; administrationId: string; date: string; total: number }[]): RecoveryCapitalChange[] {
  const byPerson = new Map<string, typeof scored>();
  for (const s of scored) {
    byPerson.set(s.personId, [...(byPerson.get(s.personId) ?? []), s]);
  }
  const out: RecoveryCapitalChange[] = [];
  for (const list of byPerson.values()) {
    list.sort((a, b) => Date.parse(a.date) - Date.parse(b.date));
    list.forEach((s, i) => {
      const prev = list[i - 1];
      out.push(prev ? { ...s, previousAdministrationId: prev.administrationId, previousTotal: prev.total, change: s.total - prev.total } : { ...s });
    });
  }
  return out;
}
