/**
 * Invariants whose published R4 expression does not say what its human description says, with the
 * expression the reference validator evaluates instead (it carries the same corrections, fixed in
 * R4B/R5).
 *
 * que-12, "If there are more than one enableWhen, enableBehavior must be specified", was published
 * in R4 as `enableWhen.count() > 2 implies ...`, which lets two conditions through without saying
 * whether both or either must hold. https://hl7.org/fhir/R4B/questionnaire.html#invs
 */
const FIXES: Record<string, { published: string; evaluated: string }> = {
  'que-12': {
    published: 'enableWhen.count() > 2 implies enableBehavior.exists()',
    evaluated: 'enableWhen.count() > 1 implies enableBehavior.exists()',
  },
};

/** The expression to evaluate for an invariant: its corrected form when the published one is known wrong. */
export function invariantExpression(key: string, expression: string): string {
  const fix = FIXES[key];
  return fix && fix.published === expression ? fix.evaluated : expression;
}
