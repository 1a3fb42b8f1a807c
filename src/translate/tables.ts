/**
 * Code tables (tables.yaml): source codes -> codes of a canonical code list. The lists are the
 * arrays of src/domain/codes.ts (plus `practitioner-role` from the model and `boolean`), so a
 * table can only produce codes the canonical checks accept; target codes are checked at load.
 */
import {
  ACTIVITY_STATUSES,
  ADDRESS_USES,
  CONTACT_MODES,
  CONTACT_STATUSES,
  CREDENTIALS,
  CRITERIA,
  CRITERION_STATUSES,
  EPISODE_STATUSES,
  ETHNICITIES,
  GENDER_IDENTITIES,
  GOAL_ACHIEVEMENTS,
  GOAL_STATUSES,
  ICRC_TASKS,
  INTERVENTIONS,
  MARITAL_STATUSES,
  PLACES_OF_SERVICE,
  PLAN_STATUSES,
  RACES,
  REFERRAL_REASONS,
  REFERRAL_STATUSES,
  REVIEW_TYPES,
  SETTINGS,
  SEXES,
  SUPPORT_TYPES,
  TELECOM_SYSTEMS,
  TELECOM_USES,
} from '../domain/codes';
import { Practitioner } from '../domain/model';
import type { TableDefData } from './schema';
import type { CodeTable } from './types';
import type { YamlFile, YamlPath } from './yaml-file';

/** The canonical code lists a table may target, by the name used in `target:`. */
export const CANONICAL_LISTS: Readonly<Record<string, readonly string[]>> = {
  'contact-status': CONTACT_STATUSES,
  'contact-mode': CONTACT_MODES,
  setting: SETTINGS,
  'place-of-service': PLACES_OF_SERVICE,
  intervention: INTERVENTIONS,
  'support-type': SUPPORT_TYPES,
  'icrc-task': ICRC_TASKS,
  credential: CREDENTIALS,
  'referral-reason': REFERRAL_REASONS,
  'referral-status': REFERRAL_STATUSES,
  criterion: CRITERIA,
  'criterion-status': CRITERION_STATUSES,
  'review-type': REVIEW_TYPES,
  'episode-status': EPISODE_STATUSES,
  'plan-status': PLAN_STATUSES,
  'goal-status': GOAL_STATUSES,
  'goal-achievement': GOAL_ACHIEVEMENTS,
  'activity-status': ACTIVITY_STATUSES,
  sex: SEXES,
  race: RACES,
  ethnicity: ETHNICITIES,
  'gender-identity': GENDER_IDENTITIES,
  'marital-status': MARITAL_STATUSES,
  'address-use': ADDRESS_USES,
  'telecom-system': TELECOM_SYSTEMS,
  'telecom-use': TELECOM_USES,
  'practitioner-role': Practitioner.shape.role.options,
  boolean: ['true', 'false'],
};

/**
 * Tables whose values are not codes of a canonical list: `text` (any text: a display name, a
 * program name, a note) and `uri` (an absolute URI: an identifier system per source code). Their
 * values go into text targets; they are not served as ConceptMaps (they map to no code system).
 */
export const VALUE_TARGETS: Readonly<Record<string, { what: string; check(v: string): boolean }>> = {
  text: { what: 'any text', check: (v) => v.trim().length > 0 && v.length <= 10_000 },
  uri: { what: 'an absolute URI (https://..., urn:oid:...)', check: (v) => /^[a-z][a-z0-9+.-]*:\S+$/i.test(v) },
};

/** A table's lookup, built once at load. */
export interface TableIndex {
  table: CodeTable;
  /** The canonical code for a source value, or undefined when the table does not have it. */
  get(code: string): string | boolean | undefined;
  /** The message for a code the table does not have. */
  unknown(code: string): string;
}

/** Checks one table of tables.yaml (target list, target codes, default) and makes its CodeTable. */
export function compileTable(name: string, def: TableDefData, sourceSystem: string, file: YamlFile): CodeTable {
  const at: YamlPath = ['tables', name];
  const valueTarget = Object.prototype.hasOwnProperty.call(VALUE_TARGETS, def.target) ? VALUE_TARGETS[def.target] : undefined;
  const list = CANONICAL_LISTS[def.target] ?? (valueTarget ? [] : undefined);
  if (!list) {
    throw file.error(
      [...at, 'target'],
      `unknown code list '${def.target}' (lists: ${Object.keys(CANONICAL_LISTS).join(', ')}; or text, uri for values that are not codes)`,
    );
  }
  const isBoolean = def.target === 'boolean';
  const toTarget = (v: string | number | boolean, path: YamlPath): string | boolean => {
    if (valueTarget) {
      if (typeof v === 'boolean' || !valueTarget.check(String(v))) {
        throw file.error(path, `table ${name} maps to ${def.target}: give ${valueTarget.what}, not ${JSON.stringify(v)}`);
      }
      return String(v);
    }
    if (isBoolean) {
      if (v === true || v === 'true') return true;
      if (v === false || v === 'false') return false;
      throw file.error(path, `table ${name} maps to boolean: use true or false, not '${String(v)}'`);
    }
    const code = String(v);
    if (!list.includes(code)) {
      const hint = typeof v === 'number' ? ' (YAML read a number: quote codes like "02")' : '';
      throw file.error(path, `code '${code}' is not in the ${def.target} list (codes: ${list.join(', ')})${hint}`);
    }
    return code;
  };
  if (Object.keys(def.codes).length === 0) {
    throw file.error([...at, 'codes'], `table ${name} has no codes`);
  }
  const codes: Record<string, string | boolean> = {};
  const seen = new Map<string, string>();
  for (const [k, v] of Object.entries(def.codes)) {
    const key = def.ignoreCase ? k.toLowerCase() : k;
    const other = seen.get(key);
    if (other !== undefined) {
      throw file.error([...at, 'codes', k], `source code '${k}' is also listed as '${other}' (the table ignores case)`, true);
    }
    seen.set(key, k);
    codes[k] = toTarget(v, [...at, 'codes', k]);
  }
  let dflt: string | boolean | undefined;
  if (def.unmapped === 'default') {
    if (def.default === undefined) {
      throw file.error([...at, 'unmapped'], `unmapped: default needs a 'default' code`);
    }
    dflt = toTarget(def.default, [...at, 'default']);
  } else if (def.default !== undefined) {
    throw file.error([...at, 'default'], `'default' is used only with unmapped: default (this table has unmapped: ${def.unmapped})`, true);
  }
  return {
    name,
    ...(def.description !== undefined ? { description: def.description } : {}),
    system: def.system ?? `${sourceSystem}/codes/${name}`,
    target: def.target,
    unmapped: def.unmapped,
    ...(dflt !== undefined ? { default: dflt } : {}),
    ignoreCase: def.ignoreCase,
    codes,
  };
}

const MAX_KNOWN = 30;

/** The lookup of a table. */
export function indexTable(table: CodeTable): TableIndex {
  const map = new Map<string, string | boolean>();
  for (const [k, v] of Object.entries(table.codes)) {
    map.set(table.ignoreCase ? k.toLowerCase() : k, v);
  }
  const keys = Object.keys(table.codes);
  const known =
    keys.length === 0 ? 'none' : keys.length <= MAX_KNOWN ? keys.join(', ') : `${keys.slice(0, MAX_KNOWN).join(', ')}, ... (${keys.length - MAX_KNOWN} more)`;
  const label = `${table.name}${table.description ? ` (${table.description})` : ''}`;
  return {
    table,
    get: table.ignoreCase ? (code) => map.get(code.toLowerCase()) : (code) => map.get(code),
    unknown: (code) => `Code '${code}' is not in table ${label}; known codes: ${known}`,
  };
}
