/**
 * Per-record issues as OperationOutcome issues: `expression` holds the record's JSON path
 * (`$.episodes[3].contacts[1].durationMinutes`), `details.text` the reason and `diagnostics` the
 * stage that found it (docs/architecture.md#errors-and-issues: a zod error becomes one issue per zod issue).
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { z } from 'zod';
import { toMillis } from '../domain/datetime';

export type Stage = 'parse' | 'mapping' | 'canonical' | 'rules' | 'fhir' | 'validate' | 'store';

export function recordIssue(
  severity: OperationOutcomeIssue['severity'],
  code: OperationOutcomeIssue['code'],
  expression: string,
  text: string,
  stage: Stage,
): OperationOutcomeIssue {
  return { severity, code, details: { text }, diagnostics: `stage: ${stage}`, expression: [expression] };
}

/** `$.a[1].b` from a base path and a zod path. */
export function jsonPath(base: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (p, k) => (typeof k === 'number' ? `${p}[${k}]` : /^[A-Za-z_$][\w$-]*$/.test(String(k)) ? `${p}.${String(k)}` : `${p}[${JSON.stringify(String(k))}]`),
    base,
  );
}

/** One issue per zod issue, each with the full JSON path. */
export function zodIssues(error: z.ZodError, base: string, stage: Stage): OperationOutcomeIssue[] {
  return error.issues.map((i) => {
    let text = i.message;
    if (i.code === 'unrecognized_keys') {
      text = `Unknown propert${i.keys.length > 1 ? 'ies' : 'y'} ${i.keys.map((k) => `"${k}"`).join(', ')}: not part of the canonical model (see mappings/canonical/schema.json)`;
    } else if (i.code === 'invalid_value' && 'values' in i) {
      text = `${i.message}`;
    }
    return recordIssue(
      'error',
      i.code === 'invalid_type' || i.code === 'unrecognized_keys' ? 'structure' : i.code === 'invalid_value' ? 'code-invalid' : 'value',
      jsonPath(base, i.path),
      text,
      stage,
    );
  });
}

/** Allowed clock difference between the source system and us before a date counts as future. */
const SKEW_MS = 5 * 60_000;

/** Which dates of a record may not lie in the future (planned things may). */
function pastDates(kind: string, v: Record<string, unknown>): [string, unknown][] {
  switch (kind) {
    case 'person':
      return [['birthDate', v.birthDate]];
    case 'practitioner':
      return [['trainingCompleted', v.trainingCompleted]];
    case 'episode':
      return [
        ['start', v.status === 'planned' || v.status === 'waitlist' ? undefined : v.start],
        ['end', v.status === 'finished' ? v.end : undefined],
        ['referral.date', (v.referral as { date?: string } | undefined)?.date],
      ];
    case 'eligibility-review':
    case 'recovery-capital':
    case 'supervisor-assessment':
      return [['date', v.date]];
    case 'contact':
      return [
        ['start', v.status === 'finished' || v.status === 'no-show' ? v.start : undefined],
        ['end', v.status === 'finished' ? v.end : undefined],
      ];
    case 'recovery-plan':
      return [['created', v.created]];
    default:
      return [];
  }
}

/** Errors for dates in the future where only past dates make sense. */
export function futureDateIssues(kind: string, value: unknown, base: string, now: Date): OperationOutcomeIssue[] {
  const limit = now.getTime() + SKEW_MS;
  const future = pastDates(kind, value as Record<string, unknown>).filter(([, date]) => typeof date === 'string' && toMillis(date) > limit);
  // A future start makes its end future too: name the start only.
  const shown = future.some(([f]) => f === 'start') ? future.filter(([f]) => f !== 'end') : future;
  return shown.map(([field, date]) => recordIssue('error', 'business-rule', `${base}.${field}`, `${String(date)} is in the future`, 'canonical'));
}
