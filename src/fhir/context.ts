/**
 * What the pure mappers need besides the record: the source system, the rule set, and the
 * displays and item texts of the PeerBridge package (profiles/package), loaded once.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CodeSystem, CodeSystemConcept, Coding, Questionnaire, QuestionnaireItem } from '@medplum/fhirtypes';
import type { RuleSet } from '../domain/rules';
import { cs, PB } from './codes';
import { recordSystem, resourceId } from './ids';
import { deepFreeze } from './shared';

export const PACKAGE_DIR = join(__dirname, '..', '..', 'profiles', 'package');

/** Displays of our CodeSystems and the item texts of our Questionnaires. */
export interface PackageTerms {
  display(system: string, code: string): string | undefined;
  /** The Questionnaire item with this linkId, and the linkId path of groups above it. */
  item(questionnaireUrl: string, linkId: string): { item: QuestionnaireItem; groups: QuestionnaireItem[] } | undefined;
  questionnaire(url: string): Questionnaire;
}

/** Loads displays and questionnaires from the package directory. */
export function loadPackageTerms(dir: string = PACKAGE_DIR): PackageTerms {
  const index = JSON.parse(readFileSync(join(dir, '.index.json'), 'utf8')) as { files: { filename: string; resourceType: string }[] };
  // By system, then code: a look-up (one per Coding made) builds no `system|code` string.
  const displays = new Map<string, Map<string, string>>();
  const questionnaires = new Map<string, Questionnaire>();
  const items = new Map<string, { item: QuestionnaireItem; groups: QuestionnaireItem[] }>();
  for (const f of index.files) {
    if (f.resourceType === 'CodeSystem') {
      const system = JSON.parse(readFileSync(join(dir, f.filename), 'utf8')) as CodeSystem;
      const add = (concepts: CodeSystemConcept[] | undefined) =>
        concepts?.forEach((c) => {
          let codes = displays.get(String(system.url));
          if (!codes) {
            codes = new Map();
            displays.set(String(system.url), codes);
          }
          codes.set(c.code, c.display ?? c.code);
          add(c.concept);
        });
      add(system.concept);
    } else if (f.resourceType === 'Questionnaire') {
      const q = JSON.parse(readFileSync(join(dir, f.filename), 'utf8')) as Questionnaire;
      questionnaires.set(q.url as string, q);
      const walk = (list: QuestionnaireItem[] | undefined, groups: QuestionnaireItem[]) =>
        list?.forEach((it) => {
          items.set(`${q.url}#${it.linkId}`, { item: it, groups });
          walk(it.item, [...groups, it]);
        });
      walk(q.item, []);
    }
  }
  return {
    display: (system, code) => displays.get(system)?.get(code),
    item: (url, linkId) => items.get(`${url}#${linkId}`),
    questionnaire: (url) => {
      const q = questionnaires.get(url);
      if (!q) {
        throw new Error(`Questionnaire ${url} is not in ${dir}`);
      }
      return q;
    },
  };
}

/**
 * Hears every reference a mapper makes to a resource another record may make (a person's Patient, an
 * organization, a practitioner and their role, an episode): its `Type/id` and the source-record
 * identifier the target carries, so a Bundle for another server can name a target it does not hold by
 * that identifier (src/outbound/placeholders.ts).
 */
export interface ReferenceLog {
  note(type: string, id: string, identifier: { system: string; value: string }): void;
}

/**
 * The `recordIdentifier` kind of the resource types other records refer to. Encounter and Goal are
 * left out: only the records that make them refer to them (a contact's ChargeItem, a plan's CarePlan).
 */
export const REFERRED_RECORD_KINDS: Readonly<Record<string, string>> = {
  Patient: 'person',
  Organization: 'organization',
  Practitioner: 'practitioner',
  PractitionerRole: 'practitioner',
  EpisodeOfCare: 'episode',
};

/** The mapping context of one run. */
export interface MapContext {
  /** The source system URI of the records. */
  source: string;
  rules: RuleSet;
  terms: PackageTerms;
  /** Told of references to records (a translation whose output leaves for another server). */
  refs?: ReferenceLog;
}

/** FHIR id for a record of `kind` (a resource type, or `Type/role`). */
export function idFor(ctx: MapContext, kind: string, recordId: string): string {
  return resourceId(ctx.source, kind, recordId);
}

/** `Type/id` reference to the resource made from a record. */
export function refTo(ctx: MapContext, type: string, recordId: string, kind: string = type): { reference: string } {
  const id = idFor(ctx, kind, recordId);
  if (ctx.refs && kind === type && REFERRED_RECORD_KINDS[type])
    ctx.refs.note(type, id, { system: recordSystem(ctx.source, REFERRED_RECORD_KINDS[type]), value: recordId });
  return { reference: `${type}/${id}` };
}

/** The type of every identifier made by `recordIdentifier` (frozen and shared: src/fhir/shared.ts). */
const SOURCE_RECORD_TYPE = deepFreeze({ coding: [{ system: cs('peerbridge-codes'), code: 'source-record', display: 'Source record identifier' }] });

/** The identifier that names the source record a resource was made from. */
export function recordIdentifier(ctx: MapContext, kind: string, recordId: string) {
  return {
    type: SOURCE_RECORD_TYPE,
    system: recordSystem(ctx.source, kind),
    value: recordId,
  };
}

/** The source record id in an identifier list made by `recordIdentifier`, if any. */
export function recordIdOf(
  identifiers: { system?: string; value?: string; type?: { coding?: Coding[] } }[] | undefined,
  kind?: string,
): { source: string; kind: string; value: string } | undefined {
  for (const i of identifiers ?? []) {
    if (i.type?.coding?.some((c) => c.system === cs('peerbridge-codes') && c.code === 'source-record') && i.system && i.value) {
      const cut = i.system.lastIndexOf('/');
      const found = { source: i.system.slice(0, cut), kind: i.system.slice(cut + 1), value: i.value };
      if (!kind || found.kind === kind) {
        return found;
      }
    }
  }
  return undefined;
}

/** A Coding of one of our CodeSystems (by id) with its display. */
export function pbCoding(ctx: MapContext, codeSystemId: string, code: string): Coding {
  const system = cs(codeSystemId);
  const display = ctx.terms.display(system, code);
  return display === undefined ? { system, code } : { system, code, display };
}

export { PB };
