/**
 * Generated narratives (Resource.text, status `generated`): always for CarePlan (US Core CarePlan
 * requires text: the plan's title, status, dates, goals and activities), and, with `NARRATIVE=all`,
 * for every resource PeerBridge emits, made from its content, so the R4 best-practice invariant
 * dom-6 ("a resource should have narrative") holds everywhere. Only the basic XHTML that txt-1
 * allows (div, p, table, tr, th, td, ul, li, b), every text escaped.
 */
import type { Narrative, Resource } from '@medplum/fhirtypes';
import type { RecoveryPlanRecord } from '../domain/model';

/** Which resources get a generated narrative: those whose profile requires one, or all. */
export type NarrativeMode = 'required' | 'all';

/** The mode from the environment: `NARRATIVE=all` (anything else, or unset: `required`). */
export function narrativeModeFromEnv(env: NodeJS.ProcessEnv = process.env): NarrativeMode {
  return env.NARRATIVE === 'all' ? 'all' : 'required';
}

const XHTML = 'http://www.w3.org/1999/xhtml';

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const div = (inner: string): Narrative => ({ status: 'generated', div: `<div xmlns="${XHTML}">${inner}</div>` });

const labelled = (label: string, value: string | undefined): string => (value ? `<p><b>${escapeXml(label)}</b>: ${escapeXml(value)}</p>` : '');

/** The recovery plan's narrative: what a reader of the CarePlan needs without the coded elements. */
export function carePlanNarrative(p: RecoveryPlanRecord): Narrative {
  const parts: string[] = [`<p><b>${escapeXml(p.title ?? 'Recovery plan')}</b> (${escapeXml(p.status)})</p>`];
  parts.push(labelled('Created', p.created));
  if (p.start || p.end) parts.push(labelled('Period', `${p.start ?? '?'} to ${p.end ?? 'ongoing'}`));
  if (p.crisisPlanPresent !== undefined) parts.push(labelled('Crisis plan (WRAP or personal crisis plan)', p.crisisPlanPresent ? 'yes' : 'no'));
  parts.push(labelled('Next review', p.nextReviewDate));
  if (p.goals.length) {
    const goals = p.goals.map((g) => {
      const extra = [g.status, g.targetDate ? `target ${g.targetDate}` : undefined, g.achievement].filter(Boolean).join(', ');
      return `<li>${escapeXml(g.description)}${extra ? ` (${escapeXml(extra)})` : ''}</li>`;
    });
    parts.push(`<p><b>Goals</b></p><ul>${goals.join('')}</ul>`);
  }
  if (p.activities.length) {
    const activities = p.activities.map((a) => {
      const extra = [a.status, a.schedule].filter(Boolean).join(', ');
      return `<li>${escapeXml(a.description)}${extra ? ` (${escapeXml(extra)})` : ''}</li>`;
    });
    parts.push(`<p><b>Activities</b></p><ul>${activities.join('')}</ul>`);
  }
  return div(parts.join(''));
}

type Json = Record<string, unknown>;

/** Elements left out of a generated narrative: metadata, and what a reader gets from the rest. */
const SKIPPED = new Set(['resourceType', 'id', 'meta', 'text', 'contained', 'implicitRules', 'language']);

/** A short readable rendering of any FHIR value (datatype or backbone element). */
function render(value: unknown, depth: number): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value))
    return value
      .map((v) => render(v, depth))
      .filter(Boolean)
      .join('; ');
  if (typeof value !== 'object') return '';
  const o = value as Json;
  // Datatypes by shape: Coding, CodeableConcept, Reference, Quantity, Period, HumanName, Identifier, Extension.
  if (typeof o.text === 'string' && Object.keys(o).every((k) => k === 'text' || k === 'coding')) return o.text;
  if (Array.isArray(o.coding)) return render(o.coding, depth);
  if (typeof o.code === 'string' && (typeof o.system === 'string' || typeof o.display === 'string') && !('value' in o)) {
    return typeof o.display === 'string' ? o.display : o.code;
  }
  if (typeof o.reference === 'string' || typeof o.display === 'string') return typeof o.display === 'string' ? o.display : String(o.reference);
  if (typeof o.value === 'number' && (typeof o.unit === 'string' || typeof o.code === 'string'))
    return `${o.value} ${typeof o.unit === 'string' ? o.unit : String(o.code)}`;
  if (('start' in o || 'end' in o) && Object.keys(o).every((k) => k === 'start' || k === 'end'))
    return `${typeof o.start === 'string' ? o.start : '?'} to ${typeof o.end === 'string' ? o.end : 'ongoing'}`;
  if ('family' in o || 'given' in o) {
    return [...((o.given as string[] | undefined) ?? []), o.family, ...((o.suffix as string[] | undefined) ?? [])].filter(Boolean).join(' ');
  }
  if (typeof o.url === 'string') {
    const name = o.url.slice(o.url.lastIndexOf('/') + 1);
    const v = Object.entries(o).find(([k]) => k.startsWith('value'));
    const inner = v ? render(v[1], depth + 1) : render(o.extension, depth + 1);
    return inner ? `${name}: ${inner}` : '';
  }
  if (typeof o.value === 'string' && ('system' in o || 'type' in o)) return o.value;
  if (depth >= 3) return '';
  return Object.entries(o)
    .filter(([k]) => !k.startsWith('_') && k !== 'id')
    .map(([k, v]) => {
      const r = render(v, depth + 1);
      return r ? `${k}: ${r}` : '';
    })
    .filter(Boolean)
    .join(', ');
}

/** A narrative made from the content of any resource: a table of its elements and their readable values. */
export function generatedNarrative(resource: Resource): Narrative {
  const rows: string[] = [];
  for (const [key, value] of Object.entries(resource as unknown as Json)) {
    if (SKIPPED.has(key) || key.startsWith('_')) continue;
    const text = render(value, 0);
    if (text) rows.push(`<tr><th>${escapeXml(key)}</th><td>${escapeXml(text)}</td></tr>`);
  }
  return div(`<p><b>${escapeXml(resource.resourceType)}</b></p>${rows.length ? `<table>${rows.join('')}</table>` : ''}`);
}

/** Gives each resource without a narrative one made from its content (NARRATIVE=all); text is placed after meta. */
export function withNarrative<T extends Resource>(resource: T): T {
  const r = resource as T & { text?: Narrative };
  if (r.text) return resource;
  const out: Json = {};
  let placed = false;
  const text = generatedNarrative(resource);
  for (const [k, v] of Object.entries(r as unknown as Json)) {
    if (!placed && k !== 'resourceType' && k !== 'id' && k !== 'meta' && k !== 'implicitRules' && k !== 'language') {
      out.text = text;
      placed = true;
    }
    out[k] = v;
  }
  if (!placed) out.text = text;
  return out as unknown as T;
}
