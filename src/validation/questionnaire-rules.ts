/**
 * Questionnaire and QuestionnaireResponse rules.
 *
 * Questionnaire: linkIds unique (que-2, which needs descendants()), enableWhen pointing at an
 * existing, different item, with an answer of the type that item produces.
 * QuestionnaireResponse: checked against its Questionnaire when we can resolve it (our package or
 * the same Bundle), as the reference validator does: items exist, answers have the item's type and
 * come from its options, single-answer items have one answer, required enabled items are answered.
 * https://hl7.org/fhir/R4/questionnaire.html, https://hl7.org/fhir/R4/questionnaireresponse.html
 */
import type { Questionnaire, QuestionnaireItem, QuestionnaireItemEnableWhen, QuestionnaireResponse, QuestionnaireResponseItemAnswer } from '@medplum/fhirtypes';
import { canonicalUrl } from './terminology';
import type { CheckContext } from './checks/context';
import { containedResources } from './checks/references';
import { shown } from './issues';

type Json = Record<string, unknown>;

/** The answer[x] / enableWhen answer[x] type each item type takes. */
const ANSWER_TYPES: Record<string, string[]> = {
  boolean: ['Boolean'],
  decimal: ['Decimal'],
  integer: ['Integer'],
  date: ['Date'],
  dateTime: ['DateTime'],
  time: ['Time'],
  string: ['String'],
  text: ['String'],
  url: ['Uri'],
  choice: ['Coding'],
  'open-choice': ['Coding', 'String'],
  attachment: ['Attachment'],
  reference: ['Reference'],
  quantity: ['Quantity'],
};

const MAX_OCCURS = 'http://hl7.org/fhir/StructureDefinition/questionnaire-maxOccurs';

function itemsOf(x: unknown): Json[] {
  const items = (x as Json | undefined)?.item;
  return Array.isArray(items) ? items.filter((i): i is Json => !!i && typeof i === 'object') : [];
}

function indexItems(items: Json[], out: Map<string, QuestionnaireItem>): Map<string, QuestionnaireItem> {
  for (const it of items) {
    if (typeof it.linkId === 'string' && !out.has(it.linkId)) {
      out.set(it.linkId, it as unknown as QuestionnaireItem);
    }
    indexItems(itemsOf(it), out);
  }
  return out;
}

function answerKey(obj: Json, prefix: 'answer' | 'value'): string | undefined {
  // A null array item has no answer: the walker reports the null itself.
  if (obj === null || typeof obj !== 'object') return undefined;
  return Object.keys(obj).find((k) => k.startsWith(prefix) && k.length > prefix.length && /[A-Z]/.test(k[prefix.length]));
}

/** Questionnaire structure: linkIds, enableWhen targets and answer types. */
export function checkQuestionnaire(q: Questionnaire, path: string, ctx: CheckContext): void {
  const byLinkId = new Map<string, QuestionnaireItem>();
  const dupes = new Set<string>();
  const visit = (items: Json[], p: string): void => {
    items.forEach((it, i) => {
      const ip = `${p}.item[${i}]`;
      if (typeof it.linkId === 'string') {
        if (byLinkId.has(it.linkId) && !dupes.has(it.linkId)) {
          dupes.add(it.linkId);
          ctx.report('error', 'duplicate', `linkId '${it.linkId}' is used by more than one item (que-2)`, `${ip}.linkId`);
        }
        byLinkId.set(it.linkId, it as unknown as QuestionnaireItem);
      }
      visit(itemsOf(it), ip);
    });
  };
  visit(itemsOf(q), path);

  const checkEnableWhen = (items: Json[], p: string): void => {
    items.forEach((it, i) => {
      const ip = `${p}.item[${i}]`;
      const ew = Array.isArray(it.enableWhen) ? (it.enableWhen as Json[]) : [];
      ew.forEach((cond, j) => {
        if (!cond || typeof cond !== 'object') {
          return;
        }
        const cp = `${ip}.enableWhen[${j}]`;
        const question = cond.question;
        if (typeof question !== 'string') {
          return;
        }
        if (question === it.linkId) {
          ctx.report('error', 'business-rule', `enableWhen of item '${String(it.linkId)}' refers to the item itself`, `${cp}.question`);
          return;
        }
        const target = byLinkId.get(question);
        if (!target) {
          ctx.report('error', 'not-found', `enableWhen refers to question '${question}', which is not an item of this Questionnaire`, `${cp}.question`);
          return;
        }
        if (target.type === 'group' || target.type === 'display') {
          ctx.report('error', 'business-rule', `enableWhen refers to '${question}', a ${target.type} item that has no answer`, `${cp}.question`);
          return;
        }
        const key = answerKey(cond, 'answer');
        if (!key || cond.operator === 'exists') {
          return; // que-7 (exists takes a boolean) is an element invariant
        }
        const allowed = ANSWER_TYPES[target.type ?? ''] ?? [];
        const got = key.slice('answer'.length);
        if (allowed.length && !allowed.includes(got)) {
          ctx.report(
            'error',
            'business-rule',
            `enableWhen on '${question}' (a ${target.type} item) must use answer${allowed.join(' or answer')}, not ${key}`,
            `${cp}.${key}`,
          );
          return;
        }
        if (got === 'Coding' && target.answerOption?.length) {
          const c = cond.answerCoding as Json;
          const known = target.answerOption.some((o) => o.valueCoding?.code === c?.code && o.valueCoding?.system === c?.system);
          if (!known) {
            ctx.report(
              'error',
              'business-rule',
              `enableWhen on '${question}' compares with ${String(c?.system)}#${String(c?.code)}, which is not one of that item's answer options`,
              `${cp}.answerCoding`,
            );
          }
        }
      });
      checkEnableWhen(itemsOf(it), ip);
    });
  };
  checkEnableWhen(itemsOf(q), path);
}

/** Finds the Questionnaire a response answers: contained in it ('#id'), ours or a loaded package's (Definitions.questionnaire), or one in the enclosing Bundle. */
function resolveQuestionnaire(qr: QuestionnaireResponse, canonical: string, ctx: CheckContext): Questionnaire | undefined {
  if (canonical.startsWith('#')) {
    const id = canonical.slice(1);
    const hit = containedResources(qr).find((r) => r.resourceType === 'Questionnaire' && r.id === id);
    return hit as Questionnaire | undefined;
  }
  const url = canonicalUrl(canonical);
  const known = ctx.defs.questionnaire(url);
  if (known) {
    return known;
  }
  for (const r of ctx.enclosingResources()) {
    if (r.resourceType === 'Bundle') {
      for (const e of r.entry ?? []) {
        const q = e?.resource;
        if (q?.resourceType === 'Questionnaire' && (q.url === url || e.fullUrl === canonical)) {
          return q;
        }
      }
    }
  }
  return undefined;
}

/** QuestionnaireResponse against its Questionnaire. */
export function checkQuestionnaireResponse(qr: QuestionnaireResponse, path: string, ctx: CheckContext): void {
  if (typeof qr.questionnaire !== 'string') {
    return;
  }
  const q = resolveQuestionnaire(qr, qr.questionnaire, ctx);
  if (!q && qr.questionnaire.startsWith('#')) {
    ctx.report('error', 'not-found', `Questionnaire '${qr.questionnaire}' is not a Questionnaire contained in this response`, `${path}.questionnaire`);
    return;
  }
  if (!q) {
    ctx.report(
      'warning',
      'not-found',
      `Questionnaire '${qr.questionnaire}' is not known here, so the answers were not checked against it`,
      `${path}.questionnaire`,
    );
    return;
  }
  const all = indexItems(itemsOf(q), new Map());
  const answers = new Map<string, QuestionnaireResponseItemAnswer[]>();
  const collect = (items: Json[]): void => {
    for (const it of items) {
      if (typeof it.linkId === 'string' && Array.isArray(it.answer)) {
        answers.set(it.linkId, [...(answers.get(it.linkId) ?? []), ...(it.answer as QuestionnaireResponseItemAnswer[])]);
      }
      collect(itemsOf(it));
      for (const a of Array.isArray(it.answer) ? (it.answer as Json[]) : []) {
        collect(itemsOf(a));
      }
    }
  };
  collect(itemsOf(qr));
  const completed = qr.status === 'completed' || qr.status === 'amended';
  checkResponseLevel(itemsOf(qr), itemsOf(q), `${path}`, ctx, answers, all, completed);
}

function isEnabled(item: QuestionnaireItem, answers: Map<string, QuestionnaireResponseItemAnswer[]>): boolean {
  const conds = item.enableWhen ?? [];
  if (conds.length === 0) {
    return true;
  }
  const results = conds.map((c) => evalCondition(c, answers.get(c.question ?? '') ?? []));
  return item.enableBehavior === 'any' ? results.some(Boolean) : results.every(Boolean);
}

function evalCondition(c: QuestionnaireItemEnableWhen, given: QuestionnaireResponseItemAnswer[]): boolean {
  if (c.operator === 'exists') {
    return given.length > 0 === (c.answerBoolean ?? true);
  }
  const key = answerKey(c as unknown as Json, 'answer');
  if (!key) {
    return false;
  }
  const expected = (c as unknown as Json)[key];
  const valueKey = 'value' + key.slice('answer'.length);
  const matches = given.map((a) => compareAnswer((a as unknown as Json)[valueKey], expected));
  switch (c.operator) {
    case '=':
      return matches.some((m) => m === 0);
    case '!=':
      return given.length > 0 && matches.every((m) => m !== 0);
    case '>':
      return matches.some((m) => m !== undefined && m > 0);
    case '<':
      return matches.some((m) => m !== undefined && m < 0);
    case '>=':
      return matches.some((m) => m !== undefined && m >= 0);
    case '<=':
      return matches.some((m) => m !== undefined && m <= 0);
    default:
      return false;
  }
}

function compareAnswer(a: unknown, b: unknown): number | undefined {
  if (a === undefined) {
    return undefined;
  }
  if (typeof a === 'number' && typeof b === 'number') {
    return a - b;
  }
  if (typeof a === 'string' && typeof b === 'string') {
    return a === b ? 0 : a < b ? -1 : 1;
  }
  if (typeof a === 'boolean' && typeof b === 'boolean') {
    return a === b ? 0 : 1;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const x = a as Json;
    const y = b as Json;
    if ('code' in y || 'system' in y) {
      return x.code === y.code && (y.system === undefined || x.system === y.system) ? 0 : 1;
    }
    if (typeof x.value === 'number' && typeof y.value === 'number') {
      return x.value - y.value;
    }
    return JSON.stringify(a) === JSON.stringify(b) ? 0 : 1;
  }
  return 1;
}

function checkResponseLevel(
  given: Json[],
  defined: Json[],
  path: string,
  ctx: CheckContext,
  answers: Map<string, QuestionnaireResponseItemAnswer[]>,
  all: Map<string, QuestionnaireItem>,
  completed: boolean,
): void {
  const defs = new Map<string, QuestionnaireItem>();
  for (const d of defined) {
    if (typeof d.linkId === 'string') {
      defs.set(d.linkId, d as unknown as QuestionnaireItem);
    }
  }
  const seen = new Set<string>();
  given.forEach((it, i) => {
    const ip = `${path}.item[${i}]`;
    const linkId = it.linkId;
    if (typeof linkId !== 'string') {
      return;
    }
    const def = defs.get(linkId);
    if (!def) {
      const elsewhere = all.has(linkId);
      ctx.report(
        'error',
        'structure',
        elsewhere ? `Item '${linkId}' is in the Questionnaire but not at this level of nesting` : `Item '${linkId}' is not an item of the Questionnaire`,
        `${ip}.linkId`,
      );
      return;
    }
    if (seen.has(linkId) && !def.repeats) {
      ctx.report('error', 'structure', `Item '${linkId}' appears more than once but does not repeat`, `${ip}.linkId`);
    }
    seen.add(linkId);
    if (typeof it.text === 'string' && def.text && it.text !== def.text) {
      ctx.report('warning', 'value', `Item '${linkId}' text differs from the Questionnaire's: '${def.text}'`, `${ip}.text`);
    }
    const itemAnswers = Array.isArray(it.answer) ? (it.answer as Json[]) : [];
    if (!isEnabled(def, answers) && (itemAnswers.length > 0 || itemsOf(it).length > 0)) {
      ctx.report('error', 'business-rule', `Item '${linkId}' is not enabled (its enableWhen conditions are not met) but has answers`, `${ip}.linkId`);
    }
    if ((def.type === 'group' || def.type === 'display') && itemAnswers.length > 0) {
      ctx.report('error', 'structure', `Item '${linkId}' is a ${def.type} and cannot have answers`, `${ip}.answer`);
    }
    if (itemAnswers.length > 1 && !def.repeats) {
      ctx.report('error', 'structure', `Item '${linkId}' takes one answer, found ${itemAnswers.length}`, `${ip}.answer`);
    }
    const maxOccurs = def.extension?.find((e) => e.url === MAX_OCCURS)?.valueInteger;
    if (maxOccurs !== undefined && itemAnswers.length > maxOccurs) {
      ctx.report('error', 'structure', `Item '${linkId}' allows at most ${maxOccurs} answers, found ${itemAnswers.length}`, `${ip}.answer`);
    }
    itemAnswers.forEach((a, j) => checkAnswer(a, def, `${ip}.answer[${j}]`, ctx));
    if (def.type === 'group') {
      checkResponseLevel(itemsOf(it), itemsOf(def), ip, ctx, answers, all, completed);
    } else {
      itemAnswers.forEach((a, j) => checkResponseLevel(itemsOf(a), itemsOf(def), `${ip}.answer[${j}]`, ctx, answers, all, completed));
    }
  });
  if (!completed) {
    return;
  }
  for (const d of defs.values()) {
    if (d.required && !seen.has(d.linkId ?? '') && isEnabled(d, answers)) {
      ctx.report('error', 'required', `Required item '${d.linkId}' ("${d.text ?? ''}") has no answer`, path);
    }
    if (d.required && seen.has(d.linkId ?? '') && d.type !== 'group' && d.type !== 'display' && !answers.get(d.linkId ?? '')?.length) {
      ctx.report('error', 'required', `Required item '${d.linkId}' is present but has no answer`, path);
    }
  }
}

function checkAnswer(a: Json, def: QuestionnaireItem, path: string, ctx: CheckContext): void {
  const key = answerKey(a, 'value');
  if (!key) {
    return;
  }
  const allowed = ANSWER_TYPES[def.type ?? ''];
  const got = key.slice('value'.length);
  if (allowed && !allowed.includes(got)) {
    ctx.report(
      'error',
      'value',
      `Item '${def.linkId}' is ${/^[aeiou]/.test(def.type ?? '') ? 'an' : 'a'} ${def.type} question: answer with value${allowed.join(' or value')}, not ${key}`,
      `${path}.${key}`,
    );
    return;
  }
  if (got === 'Coding' && (def.type === 'choice' || def.type === 'open-choice')) {
    const c = a.valueCoding as Json;
    if (def.answerOption?.length) {
      const ok = def.answerOption.some((o) => o.valueCoding?.code === c?.code && (!o.valueCoding?.system || o.valueCoding.system === c?.system));
      if (!ok) {
        ctx.report(
          'error',
          'code-invalid',
          `Answer ${shown(c?.system)}#${String(c?.code)} is not one of the options of item '${def.linkId}'`,
          `${path}.valueCoding`,
        );
      }
    } else if (def.answerValueSet) {
      const idx = ctx.defs.codeIndex(def.answerValueSet);
      if (idx?.complete && !idx.hasCoding(c?.system as string, c?.code as string)) {
        ctx.report(
          'error',
          'code-invalid',
          `Answer ${shown(c?.system)}#${String(c?.code)} is not in ${def.answerValueSet}, the value set of item '${def.linkId}'`,
          `${path}.valueCoding`,
        );
      }
    }
  }
}
