/**
 * Validation of request bodies with a budget. A client's body is validated by a `BodyValidator`:
 * in this thread (`inThreadValidation`, tests and tools) or in worker threads (`ValidationPool`,
 * the server), so one huge body cannot hold the event loop while other requests wait. The budget
 * bounds what one request may cost: elements (counted before walking, 413) and, in a pool, time
 * (the worker is stopped and replaced, 422).
 */
import { FhirError, tooCostly, tookTooLong } from '../outcomes';
import type { ValidateOptions, ValidationResult, Validator } from './validator';

export interface ValidationBudget {
  /** JSON values (objects, arrays and primitives) one validation may walk; more is refused with 413. */
  maxElements: number;
  /** Milliseconds one validation may run in a worker; longer is stopped with 422 (not enforceable in-thread). */
  timeoutMs: number;
}

/**
 * Generous for real content: the largest example in examples/ (a 26-entry Bundle, an outside
 * export's expected transaction) has about 11,000 elements; a million empty `name` entries is refused.
 */
export const DEFAULT_VALIDATION_BUDGET: ValidationBudget = { maxElements: 200_000, timeoutMs: 20_000 };

/** No limit: for bundles the server built itself (ingest commits), whose size the body limit already bounds. */
export const UNBUDGETED: ValidationBudget = { maxElements: Infinity, timeoutMs: Infinity };

/** Validates request bodies; the verdict is the Validator's, budget refusals are thrown as FhirErrors. */
export interface BodyValidator {
  validate(input: unknown, options?: ValidateOptions): Promise<ValidationResult>;
}

/**
 * Number of JSON values in `value` (every object, array and primitive), counted iteratively and
 * stopping as soon as it passes `limit`: the cost is bounded by the limit, not by the input.
 */
export function countElements(value: unknown, limit: number): number {
  let count = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && count <= limit) {
    const v = stack.pop();
    count++;
    if (Array.isArray(v)) {
      for (const x of v) stack.push(x);
    } else if (v !== null && typeof v === 'object') {
      for (const x of Object.values(v as Record<string, unknown>)) stack.push(x);
    }
  }
  return count;
}

/** Throws 413 when `input` has more elements than the budget allows. */
export function checkElementBudget(input: unknown, maxElements: number): void {
  if (Number.isFinite(maxElements) && countElements(input, maxElements) > maxElements) {
    throw tooCostly(`The resource has more than ${maxElements} elements (VALIDATION_MAX_ELEMENTS): not validated`);
  }
}

/** 422: a validation ran past its time budget and was stopped. */
export function timeBudgetExceeded(timeoutMs: number): FhirError {
  return tookTooLong(`Validation took longer than ${timeoutMs} ms (VALIDATION_TIMEOUT_MS) and was stopped`);
}

/**
 * Validation in the calling thread with the element budget (a time budget cannot stop work in
 * the thread doing it). Without a budget: exactly `validator.validate`.
 */
export function inThreadValidation(validator: Validator, budget?: Pick<ValidationBudget, 'maxElements'>): BodyValidator {
  return {
    validate: async (input, options) => {
      if (budget) checkElementBudget(input, budget.maxElements);
      return validator.validate(input, options);
    },
  };
}

/**
 * Where a caller's bodies are validated: its `validation` (the app's worker pool, or in-thread
 * with the app's budget), else its `validator` in this thread without a budget (tools, MLLP, tests).
 */
export function bodyValidator(deps: { validator: Validator; validation?: BodyValidator }): BodyValidator {
  return deps.validation ?? inThreadValidation(deps.validator);
}
