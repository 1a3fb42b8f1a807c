export { Definitions, type DefinitionsOptions, DEFAULT_PACKAGE_DIR, PROJECT_ROOT } from './definitions';
export { hasErrors, issue, outcome } from './issues';
export { jsonDepth, MAX_DEPTH, type ValidateOptions, type ValidationResult, Validator } from './validator';
export {
  type BodyValidator,
  bodyValidator,
  checkElementBudget,
  countElements,
  DEFAULT_VALIDATION_BUDGET,
  inThreadValidation,
  UNBUDGETED,
  type ValidationBudget,
} from './budget';
export { ValidationPool, type ValidationPoolOptions } from './pool';
