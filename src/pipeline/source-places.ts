/**
 * Where in the source a canonical record's problem is (src/pipeline/translate-source.ts): the
 * place of a canonical field from the mapping's trace, the column of a join that is the field's
 * own, and the rows of a group of rows that an error names.
 */
import type { SourceRecord } from '../inbound/source';
import type { RejectError } from '../store/rejects';
import type { MappedRecord } from '../translate/types';

export const LINE = /^lines? \d/;
const PLACE = /^(line \d+), column ("(?:[^"\\]|\\.)*")$/;

/** Several places as one: `line 3, columns "EndTime", "Minutes"` when on one line. */
function joinPlaces(places: string[]): string {
  if (places.length === 1) return places[0];
  const m = places.map((p) => PLACE.exec(p));
  const line = m[0]?.[1];
  if (line !== undefined && m.every((x) => x !== null && x[1] === line)) return `${line}, columns ${m.map((x) => (x as RegExpExecArray)[2]).join(', ')}`;
  return places.join('; ');
}

/**
 * The place of a target read from several paths, by the paths that are its own: `end` from
 * [SvcDate, EndTime] beside `start` from [SvcDate, StartTime] is EndTime's. Undefined when the
 * target was read from one path (its trace says where).
 */
export function ownPlaces(field: string, mapped: MappedRecord): string | undefined {
  const fed = mapped.fed?.[field];
  if (!fed || fed.length < 2) return undefined;
  const others = new Set<string>();
  for (const [f, places] of Object.entries(mapped.fed ?? {})) if (f !== field) for (const p of places) others.add(p);
  for (const [f, place] of Object.entries(mapped.trace)) if (f !== field && !f.startsWith(`${field}.`) && !f.startsWith(`${field}[`)) others.add(place);
  const own = fed.filter((p) => !others.has(p));
  return joinPlaces(own.length ? own : fed);
}

/** The line range of a row (`line 14`, `lines 14-15` for a row with a line break in a quoted cell). */
function lineRange(where: string): [number, number] | undefined {
  const m = /^lines? (\d+)(?:-(\d+))?$/.exec(where);
  return m ? [Number(m[1]), Number(m[2] ?? m[1])] : undefined;
}

/**
 * The rows of a group that errors name (by the line of their source place), each with its
 * errors; undefined when an error names no row (it is about the group as a whole).
 */
export function blamedRows(rows: SourceRecord[], errors: RejectError[]): Map<SourceRecord, RejectError[]> | undefined {
  const out = new Map<SourceRecord, RejectError[]>();
  for (const e of errors) {
    const line = e.source !== undefined ? /^line (\d+)/.exec(e.source)?.[1] : undefined;
    const row =
      line === undefined
        ? undefined
        : rows.find((r) => {
            const range = lineRange(r.where);
            return range !== undefined && range[0] <= Number(line) && Number(line) <= range[1];
          });
    if (!row) return undefined;
    out.set(row, [...(out.get(row) ?? []), e]);
  }
  return out;
}

/** `durationMinutes` from `$.durationMinutes`; '' for `$`. */
export function fieldOf(expression: string | undefined): string {
  if (!expression || expression === '$') return '';
  return expression.startsWith('$.') ? expression.slice(2) : expression.replace(/^\$/, '');
}

/** The source location of a canonical field: its own trace, or its nearest traced parent's. */
export function sourceOf(field: string, trace: Record<string, string>): string | undefined {
  let f = field;
  while (f) {
    const at = trace[f];
    if (at !== undefined) return at;
    const cut = Math.max(f.lastIndexOf('.'), f.lastIndexOf('['));
    if (cut <= 0) break;
    f = f.slice(0, cut);
  }
  // An object target left absent (`name` when every `name.*` column is empty): where its parts were looked for.
  for (const [f2, at] of Object.entries(trace)) if (f2.startsWith(`${field}.`) || f2.startsWith(`${field}[`)) return at;
  return undefined;
}
