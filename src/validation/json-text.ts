/**
 * Validating a JSON text (a file, a worker job): parse, validate, and only when there are issues,
 * locate them by line and column (src/validation/positions.ts) and name the resource each is about.
 * The CLI runs this in its own thread or in the validation pool's workers (src/validation/pool.ts),
 * with the same result either way.
 */
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { describeJsonError, jsonErrorOffset } from '../inbound/json-error';
import { issue, outcome } from './issues';
import { ISSUE_COL_URL, ISSUE_LINE_URL, positionAt, withPositions } from './positions';
import type { ValidateOptions, Validator } from './validator';

export interface TextValidationOptions extends ValidateOptions {
  /**
   * JSON that is not a FHIR resource (an object without `resourceType`, or an array holding no
   * resource) is skipped with a note instead of reported invalid: for files found in a directory,
   * which may hold reports and test tables beside the resources.
   */
  skipNonResources?: boolean;
}

export interface TextValidationResult {
  valid: boolean;
  /** The verdict; each issue carries its line and column (issue extensions). */
  outcome: OperationOutcome;
  /** Why the text was skipped (not a FHIR resource), when it was. */
  skipped?: string;
  /** For each issue of `outcome`: the resource it is about (`Encounter/abc`), or ''. */
  labels: string[];
}

/** Validates one JSON text; never throws on bad input. */
export function validateJsonText(validator: Validator, text: string, options: TextValidationOptions = {}): TextValidationResult {
  const body = text.replace(/^\uFEFF/, '');
  if (!body.trim()) {
    return invalid(issue('error', 'structure', 'File is empty; expected a FHIR JSON resource'));
  }
  let input: unknown;
  try {
    input = JSON.parse(body);
  } catch (e) {
    const at = jsonErrorOffset(body);
    const found = issue('error', 'structure', `Not valid JSON: ${describeJsonError(e as Error, body)}`);
    return invalid(at >= 0 ? { extension: positionExtensions(body, at), ...found } : found);
  }
  if (options.skipNonResources && !looksLikeFhir(input)) {
    const why = 'not a FHIR resource (no resourceType)';
    return { valid: true, outcome: outcome([issue('information', 'informational', `Skipped: ${why}`)]), skipped: why, labels: [''] };
  }
  const { skipNonResources: _, ...validateOptions } = options;
  const r = validator.validate(input, validateOptions);
  if (r.issues.length === 0) {
    return { valid: true, outcome: r.outcome, labels: [''] };
  }
  const issues = withPositions(r.issues, body);
  return { valid: r.valid, outcome: { ...r.outcome, issue: issues }, labels: issues.map((i) => resourceLabel(input, i.expression?.[0])) };
}

function invalid(found: OperationOutcomeIssue): TextValidationResult {
  return { valid: false, outcome: outcome([found]), labels: [''] };
}

/** An object with a resourceType, or an array holding one (a wrongly wrapped resource is still reported). */
function looksLikeFhir(input: unknown): boolean {
  const isResource = (v: unknown): boolean => !!v && typeof v === 'object' && !Array.isArray(v) && 'resourceType' in v;
  return Array.isArray(input) ? input.some(isResource) : isResource(input);
}

function positionExtensions(text: string, offset: number): OperationOutcomeIssue['extension'] {
  const at = positionAt(text, offset);
  return [
    { url: ISSUE_LINE_URL, valueInteger: at.line },
    { url: ISSUE_COL_URL, valueInteger: at.col },
  ];
}

/** `Bundle.entry[2].resource.type` -> "Encounter/abc" (the resource an issue is about). */
export function resourceLabel(input: unknown, expression: string | undefined): string {
  let current = input as Record<string, unknown> | undefined;
  let label = describe(current);
  if (!expression) {
    return label;
  }
  const re = /\.(entry)\[(\d+)\]\.resource|\.(contained)\[(\d+)\]|\.parameter\[(\d+)\]\.resource/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(expression))) {
    if (!current) {
      break;
    }
    if (m[1]) {
      current = ((current.entry as unknown[])?.[Number(m[2])] as Record<string, unknown> | undefined)?.resource as Record<string, unknown>;
    } else if (m[3]) {
      current = (current.contained as unknown[])?.[Number(m[4])] as Record<string, unknown>;
    } else {
      current = ((current.parameter as unknown[])?.[Number(m[5])] as Record<string, unknown> | undefined)?.resource as Record<string, unknown>;
    }
    label = describe(current) || label;
  }
  return label;
}

function describe(r: Record<string, unknown> | undefined): string {
  if (!r || typeof r !== 'object' || typeof r.resourceType !== 'string') {
    return '';
  }
  return typeof r.id === 'string' ? `${r.resourceType}/${r.id}` : r.resourceType;
}
