/**
 * Guesses for `peerbridge mapping init` (src/cli/mapping-init.ts): which record kind a file or
 * JSON list holds, from its name, and which canonical target a column feeds, from the column's
 * name. Only names are used, never values; every guess is written as such (`# guess`) for a
 * person to check.
 */
import { DateString, DateTimeString } from '../domain/datetime';
import type { RecordKind } from '../domain/model';
import { CANONICAL_LISTS } from '../translate';
import { describe, KIND_SCHEMAS } from '../translate/targets';
import { unwrapSchema } from '../translate/yaml-file';

/** Names people give a kind (plural or not, vendor words), normalised: lower case, letters and digits only. */
const KIND_WORDS: [RegExp, RecordKind][] = [
  [/^(contacts?|visits?|sessions?|encounters?|services?|appointments?|appts?|notes?)$/, 'contact'],
  [/^(clients?|patients?|persons?|people|members?|consumers?|participants?|demographics?)$/, 'person'],
  [/^(episodes?|enrollments?|enrolments?|admissions?|cases?|programs?enrollments?)$/, 'episode'],
  [/^(staff|practitioners?|providers?|specialists?|employees?|peers?|users?)$/, 'practitioner'],
  [/^(organizations?|organisations?|orgs?|sites?|agencies|agency|clinics?|locations?)$/, 'organization'],
  [/^(eligibility|eligibilityreviews?|reviews?|assessmentsofeligibility)$/, 'eligibility-review'],
  [/^(recoveryplans?|plans?|careplans?)$/, 'recovery-plan'],
  [/^(recoverycapital|irc|bar?c\d*|recoverycapitalscales?)$/, 'recovery-capital'],
  [/^(supervisorassessments?|supervision)$/, 'supervisor-assessment'],
];

const norm = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]/g, '');

/** The kind a word names (`contacts`, `visits`, `contact`, `eligibility-review`), or undefined. */
export function kindOf(word: string): RecordKind | undefined {
  if ((Object.keys(KIND_SCHEMAS) as RecordKind[]).includes(word as RecordKind)) return word as RecordKind;
  const w = norm(word);
  for (const [re, kind] of KIND_WORDS) if (re.test(w)) return kind;
  return undefined;
}

/** The kind of a file (`visits_2026-10.csv` -> contact) by the words of its name. */
export function kindOfName(fileName: string): RecordKind | undefined {
  const stem = fileName.replace(/\.[^.]+$/, '');
  for (const part of [stem, ...stem.split(/[^A-Za-z]+/)]) {
    const k = part ? kindOf(part) : undefined;
    if (k) return k;
  }
  return undefined;
}

const ID = '(id|no|num|number|nbr|key|code)';
const PERSON = '(client|patient|person|member|consumer|participant)';

/** Per kind: target -> column name patterns (normalised names). The first target a column matches wins. */
const TARGET_WORDS: Partial<Record<RecordKind, [string, RegExp][]>> = {
  person: [
    ['id', new RegExp(`^(${PERSON}${ID}?|mrn|id)$`)],
    ['name.family', /^(last|lastname|family|familyname|surname|lname)$/],
    ['name.given', /^(first|firstname|given|givenname|fname)$/],
    ['birthDate', /^(dob|birthdate|dateofbirth|birthday|bdate)$/],
    ['sex', /^(sex|gender|birthsex)$/],
    ['organizationId', /^(org|organization|program|site|agency)(id|no|code)?$/],
    ['language', /^(language|preferredlanguage|lang)$/],
  ],
  episode: [
    ['id', new RegExp(`^((episode|enrollment|enrolment|admission|case)${ID}|id)$`)],
    ['personId', new RegExp(`^${PERSON}${ID}?$`)],
    ['organizationId', /^(org|organization|program|site|agency)(id|no|code)?$/],
    ['status', /^(status|episodestatus|enrollmentstatus)$/],
    ['start', /^(start|startdate|enrolled|enrollmentdate|enrolmentdate|admitdate|admissiondate|opendate|opened)$/],
    ['end', /^(end|enddate|discharged|dischargedate|closedate|closed)$/],
    ['specialistId', /^(staff|specialist|peer|provider|assignedpeer)(id|no)?$/],
  ],
  contact: [
    ['id', new RegExp(`^((visit|contact|session|encounter|service|appt|appointment|note)${ID}|id)$`)],
    ['episode.id', new RegExp(`^(episode|enrollment|enrolment|admission|case)${ID}$`)],
    ['episode.personId', new RegExp(`^${PERSON}${ID}?$`)],
    ['status', /^(status|visitstatus|contactstatus|outcome|attendance)$/],
    ['start', /^(start|starttime|startdatetime|startsat|begin|timein|datetime|servicedatetime)$/],
    ['end', /^(end|endtime|enddatetime|endsat|finish|timeout)$/],
    ['durationMinutes', /^(minutes|duration|durationminutes|mins|length|units?minutes)$/],
    ['mode', /^(mode|modality|type|contacttype|method|visittype|contactmode)$/],
    ['specialistId', /^(staff|specialist|peer|provider|clinician|practitioner)(id|no|name)?$/],
    ['note', /^(note|notes|comment|comments|narrative)$/],
  ],
  practitioner: [
    ['id', new RegExp(`^((staff|practitioner|provider|employee|peer|user)${ID}|id)$`)],
    ['name.family', /^(last|lastname|family|familyname|surname|lname)$/],
    ['name.given', /^(first|firstname|given|givenname|fname)$/],
    ['role', /^(role|position|title|jobtitle)$/],
    ['credential.code', /^(credential|cert|certification|credentialcode)$/],
    ['organizationId', /^(org|organization|program|site|agency)(id|no|code)?$/],
    ['supervisorId', /^(supervisor|supervisorid)$/],
  ],
  organization: [
    ['id', new RegExp(`^((org|organization|organisation|program|site|agency)${ID}|id)$`)],
    ['name', /^(name|orgname|organizationname|programname|sitename)$/],
  ],
};

/** Columns that hold a date only (a service date), joined with a time column for a date-time target. */
const DATE_COLUMN = /^(date|svcdate|servicedate|visitdate|contactdate|sessiondate|dos|dateofservice)$/;

export interface Guess {
  /** The column, or columns (a date column joined with a time column). */
  from: string[];
  target: string;
}

/** Targets guessed for the columns of a kind; a column feeds one target at most. */
export function guessTargets(kind: RecordKind, columns: string[]): Guess[] {
  const words = TARGET_WORDS[kind] ?? [];
  const out: Guess[] = [];
  const used = new Set<string>();
  for (const [target, re] of words) {
    // A JSON path (`name.family`) is matched whole and by its last part (`family`).
    const col = columns.find(
      (c) =>
        !used.has(c) &&
        (re.test(norm(c)) ||
          re.test(
            norm(
              c
                .replace(/\[\*\]$/, '')
                .split('.')
                .pop() ?? '',
            ),
          )),
    );
    if (col === undefined) continue;
    used.add(col);
    out.push({ from: [col], target });
  }
  // A contact's start and end as a service date joined with a time of day.
  const date = columns.find((c) => DATE_COLUMN.test(norm(c)));
  if (kind === 'contact' && date !== undefined) {
    const start = out.find((g) => g.target === 'start');
    if (start && /time|begin|^start$/i.test(start.from[0])) start.from = [date, start.from[0]];
    else if (!start) out.push({ from: [date], target: 'start' });
    const end = out.find((g) => g.target === 'end');
    if (end && /time|finish|^end$/i.test(end.from[0])) end.from = [date, end.from[0]];
  }
  return out;
}

export type Takes = 'text' | 'date' | 'datetime' | 'code' | 'number' | 'boolean' | 'list' | 'other';

/** What a target of a kind takes, and the canonical code list of a code target. */
export function targetTakes(kind: RecordKind, target: string): { takes: Takes; list?: string; required: boolean } {
  let schema = KIND_SCHEMAS[kind] as unknown;
  let required = true;
  const parts = target.startsWith('episode.') ? [] : target.split('.');
  if (target.startsWith('episode.')) return { takes: 'text', required: target === 'episode.id' };
  for (const key of parts) {
    const info = describe(schema as never);
    const next = info.shape?.[key];
    if (!next) return { takes: 'other', required: false };
    if ((next as { safeParse: (v: unknown) => { success: boolean } }).safeParse(undefined).success) required = false;
    schema = next;
  }
  const inner: unknown = unwrapSchema(schema);
  if (inner === DateString) return { takes: 'date', required };
  if (inner === DateTimeString) return { takes: 'datetime', required };
  const info = describe(schema as never);
  switch (info.type) {
    case 'enum': {
      const options = info.options ?? [];
      const list = Object.entries(CANONICAL_LISTS).find(([, codes]) => codes.length === options.length && codes.every((c) => options.includes(c)))?.[0];
      return { takes: 'code', ...(list ? { list } : {}), required };
    }
    case 'number':
      return { takes: 'number', required };
    case 'boolean':
      return { takes: 'boolean', required };
    case 'array':
      return { takes: info.element?.type === 'string' ? 'list' : 'other', required };
    case 'string':
      return { takes: 'text', required };
    default:
      return { takes: 'other', required };
  }
}

/** The required top-level targets of a kind (as `mappings/README.md` lists them), objects by a part a person fills in. */
export function requiredTargets(kind: RecordKind): string[] {
  const info = describe(KIND_SCHEMAS[kind]);
  const out: string[] = [];
  for (const [key, schema] of Object.entries(info.shape ?? {})) {
    if ((schema as unknown as { safeParse: (v: unknown) => { success: boolean } }).safeParse(undefined).success) continue;
    const t = describe(schema);
    out.push(t.type === 'object' && key === 'name' ? 'name.family' : key);
  }
  if (kind === 'contact' || kind === 'eligibility-review' || kind === 'recovery-plan') out.push('episode.id');
  return out;
}
