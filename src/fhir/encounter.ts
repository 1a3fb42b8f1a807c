/** Contact <-> Encounter (peer-support-encounter profile; docs/domain.md#a-contact). */
import type { CodeableConcept, Coding, Encounter, Extension, Location } from '@medplum/fhirtypes';
import type { ContactRecord, EpisodeLink } from '../domain/model';
import { CONTACT_MODES } from '../domain/codes';
import { cs, EXTENSIONS, MODE_CODES, PROFILES, REFERRAL_REASON_SNOMED, SYSTEMS } from './codes';
import { idFor, type MapContext, pbCoding, recordIdentifier, recordIdOf, refTo } from './context';
import { metaFor, put, type ResolveRef } from './common';
import { escapeXml } from './narrative';
import { deepFreeze, SharedValues } from './shared';

const CLASS_DISPLAY = { AMB: 'ambulatory', HH: 'home health', FLD: 'field', VR: 'virtual' } as const;

/** CMS place of service names (PlaceOfService ValueSet; the code system is external, so no CodeSystem of ours holds them). */
const POS_DISPLAY: Record<string, string> = {
  '02': 'Telehealth Provided Other than in Patient’s Home',
  '10': 'Telehealth Provided in Patient’s Home',
  '11': 'Office',
  '12': 'Home',
  '53': 'Community Mental Health Center',
  '99': 'Other Place of Service',
};

/** Frozen values shared by every Encounter, one table per kind (src/fhir/shared.ts says why). */
const PLACES = new SharedValues<Location>();
const PLACE_EXTENSIONS = new SharedValues<Extension>();
const CLASSES = new SharedValues<Coding>();
const REASONS = new SharedValues<CodeableConcept>();
const INTERVENTIONS = new SharedValues<Extension>();
const SUPPORT_TYPES = new SharedValues<Extension>();
const ICRC_TASKS = new SharedValues<Extension>();
/** The first type, by HCPCS code; the second, by contact mode. */
const SERVICE_TYPES = new SharedValues<CodeableConcept>();
const MODE_TYPES = new SharedValues<CodeableConcept>();
const PRIMARY_PERFORMER: CodeableConcept = deepFreeze({ coding: [{ system: SYSTEMS.participationType, code: 'PPRF', display: 'primary performer' }] });

/** The id of the contained Location (mode `kind`) that says what kind of place a contact took place at. */
const PLACE_ID = 'place';

/**
 * The Encounter with a contained Location of the place of service's kind (contained comes before
 * extension). The Location, like the coded values below, is one frozen value per code shared by
 * every Encounter (src/fhir/shared.ts says why).
 */
function withPlace(e: Encounter, pos: string): Encounter {
  const { resourceType, id, meta, ...rest } = e;
  const place = PLACES.get(pos, (): Location => ({
    resourceType: 'Location',
    id: PLACE_ID,
    text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml"><p>Place of service ${pos}: ${escapeXml(POS_DISPLAY[pos])}</p></div>` },
    status: 'active',
    name: POS_DISPLAY[pos],
    mode: 'kind',
    type: [{ coding: [{ system: SYSTEMS.pos, code: pos, display: POS_DISPLAY[pos] }] }],
  }));
  return { resourceType, id, ...(meta ? { meta } : {}), contained: [place], ...rest };
}

const STATUS = { finished: 'finished', planned: 'planned', cancelled: 'cancelled', 'no-show': 'cancelled' } as const;

/** One extension per code, from `values` (one table per extension: its URL and code system are the table's). */
function coded(values: SharedValues<Extension>, url: string, ctx: MapContext, codeSystemId: string, codes: readonly string[]): Extension[] {
  return codes.map((code) => values.get(code, () => ({ url, valueCodeableConcept: { coding: [pbCoding(ctx, codeSystemId, code)] } }), ctx.terms));
}

export function toEncounter(c: ContactRecord, episode: EpisodeLink, ctx: MapContext, part2: boolean): Encounter {
  const extension: Extension[] = [
    ...coded(INTERVENTIONS, EXTENSIONS.intervention, ctx, 'peer-intervention', c.interventions),
    ...coded(SUPPORT_TYPES, EXTENSIONS.supportType, ctx, 'social-support-type', c.supportTypes),
    ...coded(ICRC_TASKS, EXTENSIONS.icrcTask, ctx, 'icrc-task', c.icrcTasks),
  ];
  const pos = c.placeOfService;
  if (pos) {
    extension.push(
      PLACE_EXTENSIONS.get(pos, () => ({
        url: EXTENSIONS.placeOfService,
        valueCodeableConcept: { coding: [{ system: SYSTEMS.pos, code: pos, display: POS_DISPLAY[pos] }] },
      })),
    );
  }
  if (c.group) extension.push({ url: EXTENSIONS.groupContact, valueBoolean: true });
  if (c.status === 'no-show') extension.push({ url: EXTENSIONS.noShow, valueBoolean: true });
  if (c.note) extension.push({ url: EXTENSIONS.contactNote, valueString: c.note });
  const mode = MODE_CODES[c.mode];
  const billing = ctx.rules.billing.code;
  const out: Encounter = {
    resourceType: 'Encounter',
    id: idFor(ctx, 'Encounter', c.id),
    ...metaFor(PROFILES.encounter, part2),
    ...(extension.length ? { extension } : {}),
    identifier: [recordIdentifier(ctx, 'contact', c.id)],
    status: STATUS[c.status],
    class: CLASSES.get(c.setting, () => ({ system: SYSTEMS.actCode, code: c.setting, display: CLASS_DISPLAY[c.setting] })),
    type: [
      SERVICE_TYPES.get(billing, () => ({ coding: [{ system: SYSTEMS.hcpcs, code: billing, display: 'Self-help/peer services, per 15 minutes' }] })),
      MODE_TYPES.get(c.mode, () => ({ coding: [{ system: SYSTEMS.snomed, code: mode.code, display: mode.display }] })),
    ],
    subject: refTo(ctx, 'Patient', episode.personId),
    episodeOfCare: [refTo(ctx, 'EpisodeOfCare', episode.id)],
    participant: [
      {
        type: [PRIMARY_PERFORMER],
        individual: refTo(ctx, 'PractitionerRole', c.specialistId),
      },
    ],
    period: { start: c.start, ...(c.end ? { end: c.end } : {}) },
  };
  if (episode.referral) out.basedOn = [refTo(ctx, 'ServiceRequest', episode.id)];
  // US Core Encounter: why (the referral's reasons, when the episode is in the run) and where (the kind of place).
  if (episode.referralReasons?.length) {
    out.reasonCode = episode.referralReasons.map((r) =>
      REASONS.get(
        r,
        () => {
          const snomed = REFERRAL_REASON_SNOMED[r];
          return { coding: [pbCoding(ctx, 'peer-referral-reason', r), ...(snomed ? [{ system: SYSTEMS.snomed, ...snomed }] : [])] };
        },
        ctx.terms,
      ),
    );
  }
  if (c.durationMinutes !== undefined) out.length = { value: c.durationMinutes, unit: 'min', system: SYSTEMS.ucum, code: 'min' };
  if (c.placeOfService) {
    out.location = [{ location: { reference: `#${PLACE_ID}`, display: POS_DISPLAY[c.placeOfService] } }];
  }
  out.serviceProvider = refTo(ctx, 'Organization', episode.organizationId);
  if (c.placeOfService) return withPlace(out, c.placeOfService);
  return out;
}

const codesOf = (r: Encounter, url: string, system: string): string[] =>
  (r.extension ?? [])
    .filter((e) => e.url === url)
    .flatMap((e) => e.valueCodeableConcept?.coding?.filter((c) => c.system === system).map((c) => c.code as string) ?? []);

export function fromEncounter(r: Encounter, resolve: ResolveRef): ContactRecord {
  const ext = (url: string) => r.extension?.find((e) => e.url === url);
  const modeCode = r.type?.flatMap((t) => t.coding ?? []).find((c) => c.system === SYSTEMS.snomed)?.code;
  const mode = CONTACT_MODES.find((m) => MODE_CODES[m].code === modeCode) ?? 'in-person';
  const status: ContactRecord['status'] = ext(EXTENSIONS.noShow)?.valueBoolean ? 'no-show' : (r.status as ContactRecord['status']);
  const out: ContactRecord = {
    id: recordIdOf(r.identifier, 'contact')?.value ?? (r.id as string),
    status,
    start: r.period?.start as string,
    mode,
    setting: r.class.code as ContactRecord['setting'],
    group: ext(EXTENSIONS.groupContact)?.valueBoolean === true,
    specialistId: resolve(r.participant?.[0]?.individual) as string,
    interventions: codesOf(r, EXTENSIONS.intervention, cs('peer-intervention')) as ContactRecord['interventions'],
    supportTypes: codesOf(r, EXTENSIONS.supportType, cs('social-support-type')) as ContactRecord['supportTypes'],
    icrcTasks: codesOf(r, EXTENSIONS.icrcTask, cs('icrc-task')),
  };
  put(out, 'end', r.period?.end);
  put(out, 'durationMinutes', r.length?.value);
  put(out, 'placeOfService', codesOf(r, EXTENSIONS.placeOfService, SYSTEMS.pos)[0] as ContactRecord['placeOfService']);
  put(out, 'note', ext(EXTENSIONS.contactNote)?.valueString);
  return out;
}
