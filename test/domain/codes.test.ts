/**
 * The canonical model's code lists mirror the CodeSystems of the PeerBridge package, and the
 * default rule set asks exactly the criteria the eligibility Questionnaire enables per review type
 * (src/domain/codes.ts keeps them in code so zod and the JSON Schema can use them).
 */
import type { CodeSystem, CodeSystemConcept, Questionnaire, QuestionnaireItem } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as codes from '../../src/domain/codes';
import { REVIEW_TYPES } from '../../src/domain/codes';
import { loadRules, type RuleExpr } from '../../src/domain/rules';

const PACKAGE = join(__dirname, '..', '..', 'profiles', 'package');
const read = <T>(file: string): T => JSON.parse(readFileSync(join(PACKAGE, file), 'utf8')) as T;

/** Every code of a CodeSystem, nested concepts included, in document order. */
function conceptCodes(id: string): string[] {
  const system = read<CodeSystem>(`CodeSystem-${id}.json`);
  const walk = (list: CodeSystemConcept[] | undefined): string[] => (list ?? []).flatMap((c) => [c.code, ...walk(c.concept)]);
  return walk(system.concept);
}

const LISTS: [keyof typeof codes, string][] = [
  ['INTERVENTIONS', 'peer-intervention'],
  ['SUPPORT_TYPES', 'social-support-type'],
  ['ICRC_TASKS', 'icrc-task'],
  ['CREDENTIALS', 'peer-credential'],
  ['REFERRAL_REASONS', 'peer-referral-reason'],
  ['CRITERIA', 'eligibility-criterion'],
  ['CRITERION_STATUSES', 'criterion-status'],
  ['REVIEW_TYPES', 'eligibility-review-type'],
  ['ELIGIBILITY_RESULTS', 'eligibility-result'],
];

describe('code lists mirror the package CodeSystems', () => {
  it.each(LISTS)('%s equals the concepts of CodeSystem %s', (list, codeSystemId) => {
    const values = codes[list] as readonly string[];
    expect(new Set(values).size).toBe(values.length);
    expect([...values].sort()).toEqual(conceptCodes(codeSystemId).sort());
  });

  it('keeps the CodeSystem order (so displays and JSON Schema enums read the same)', () => {
    for (const [list, codeSystemId] of LISTS) {
      expect({ list, codes: [...(codes[list] as readonly string[])] }).toEqual({ list, codes: conceptCodes(codeSystemId) });
    }
  });
});

describe('default rule criteria match the eligibility Questionnaire', () => {
  const questionnaire = read<Questionnaire>('Questionnaire-peer-support-eligibility-review.json');
  const leaves = (item: QuestionnaireItem): string[] => (item.item?.length ? item.item.flatMap(leaves) : [item.linkId]);

  /** The leaf linkIds of the top-level groups whose enableWhen selects this review type. */
  function enabledFor(type: string): string[] {
    return (questionnaire.item ?? [])
      .filter(
        (g) => g.type === 'group' && (g.enableWhen ?? []).some((w) => w.question === 'review-type' && w.operator === '=' && w.answerCoding?.code === type),
      )
      .flatMap(leaves);
  }

  it.each(REVIEW_TYPES.map((t) => [t]))('%s review: rules/default.json criteria = the items its groups enable', (type) => {
    const rules = loadRules();
    const enabled = enabledFor(type);
    expect(enabled.length).toBeGreaterThan(0);
    expect([...rules.eligibility[type].criteria].sort()).toEqual([...enabled].sort());
  });

  it.each(REVIEW_TYPES.map((t) => [t]))('%s rule uses only the criteria its review asks', (type) => {
    const review = loadRules().eligibility[type];
    const used = (e: RuleExpr): string[] => (typeof e === 'string' ? [e] : 'not' in e ? used(e.not) : ('any' in e ? e.any : e.all).flatMap(used));
    expect([...new Set(used(review.rule))].sort()).toEqual([...review.criteria].sort());
  });

  it('every criterion item is a criterion code, and every criterion is asked by exactly one review type', () => {
    const all = REVIEW_TYPES.flatMap(enabledFor);
    expect([...all].sort()).toEqual([...codes.CRITERIA].sort());
  });
});
