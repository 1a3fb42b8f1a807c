/**
 * The kick-off request (https://hl7.org/fhir/uv/bulkdata/export.html#bulk-data-kick-off-request):
 * its headers and parameters checked and turned into what a job exports. Parameters come from
 * the query string (GET) or a `Parameters` body (POST; query parameters are accepted too).
 *
 * - `Prefer: respond-async` is required (400 without it).
 * - `_outputFormat`: `application/fhir+ndjson`, `application/ndjson` or `ndjson`; anything else 400.
 * - `_type`: comma-separated and/or repeated resource types; `_since`: an instant; `patient`
 *   (Patient and Group levels): references to Patients.
 * - Anything else (`_elements`, `_typeFilter`, `includeAssociatedData`, unknown names), and
 *   `_type` values this level cannot export: 400, or under `Prefer: handling=lenient` ignored with
 *   a warning OperationOutcome listed in the manifest's `error` array ("SHOULD include an
 *   OperationOutcome ... for each of these parameters").
 */
import type { Group, OperationOutcome, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import type { FhirDeps, FhirRequest } from '../fhir-api/types';
import { badRequest, FhirError } from '../outcomes';
import { idParam } from '../fhir-api/http-rules';
import { patientCompartmentTypes } from '../store/search-params';
import type { ExportLevel, JobParams } from './jobs';

export const OUTPUT_FORMATS = ['application/fhir+ndjson', 'application/ndjson', 'ndjson'];
const SUPPORTED = new Set(['_outputFormat', '_type', '_since', 'patient']);
/** Parameters about the response format, not the export: the FHIR layer checks `_format`. */
const IGNORED = new Set(['_format', '_pretty']);
const INSTANT_RE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;
const PATIENT_REF_RE = /(?:^|\/)Patient\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;

/** A checked kick-off: what to export, plus warnings for what lenient handling ignored. */
export interface Kickoff {
  params: JobParams;
  issues: OperationOutcome[];
}

const warning = (text: string, expression: string): OperationOutcome => ({
  resourceType: 'OperationOutcome',
  issue: [{ severity: 'warning', code: 'not-supported', details: { text }, expression: [expression] }],
});

/** Tokens of a `Prefer` header (`respond-async`, `handling=lenient`). */
export function preferTokens(header: string | undefined): Set<string> {
  return new Set((header ?? '').split(/[,;]/).map((t) => t.trim().replace(/\s*=\s*/, '=').toLowerCase()).filter(Boolean));
}

/** The request's parameters by name, from the query and (POST) a Parameters body. */
function collect(req: FhirRequest): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (name: string, value: string): void => {
    out.set(name, [...(out.get(name) ?? []), value]);
  };
  for (const [name, v] of Object.entries(req.query)) {
    for (const one of [v ?? []].flat()) {
      add(name, one);
    }
  }
  if (req.method === 'POST' && req.body !== undefined) {
    const body = req.body as Parameters;
    if (!body || typeof body !== 'object' || body.resourceType !== 'Parameters') {
      throw new FhirError(badRequest('A POST kick-off takes a Parameters resource as its body', 'resourceType'), 400);
    }
    for (const [i, p] of (body.parameter ?? []).entries()) {
      if (!p?.name) {
        throw new FhirError(badRequest('Every parameter needs a name', `Parameters.parameter[${i}].name`), 400);
      }
      add(p.name, parameterValue(p));
    }
  }
  return out;
}

/** A parameter's value[x] as text: a Reference gives its `reference`. */
function parameterValue(p: ParametersParameter): string {
  for (const [k, v] of Object.entries(p)) {
    if (k.startsWith('value')) {
      if (v && typeof v === 'object' && 'reference' in v) {
        return String((v as { reference?: string }).reference ?? '');
      }
      return typeof v === 'object' ? JSON.stringify(v) : String(v);
    }
  }
  return '';
}

/**
 * Checks the kick-off and works out what to export. Group exports read the Group (404 when
 * unknown, 410 when deleted) and take its active Patient members.
 */
export async function parseKickoff(req: FhirRequest, level: ExportLevel, deps: FhirDeps): Promise<Kickoff> {
  const prefer = preferTokens(req.headers.prefer);
  if (!prefer.has('respond-async')) {
    throw new FhirError(badRequest('Bulk Data export is asynchronous: send the header Prefer: respond-async', 'Prefer'), 400);
  }
  const lenient = prefer.has('handling=lenient');
  const issues: OperationOutcome[] = [];
  const refuse = (text: string, expression: string): void => {
    if (!lenient) {
      throw new FhirError(badRequest(`${text} (send Prefer: handling=lenient to have it ignored)`, expression), 400);
    }
    issues.push(warning(`${text}; ignored`, expression));
  };
  const params = collect(req);
  for (const name of params.keys()) {
    if (!SUPPORTED.has(name) && !IGNORED.has(name)) {
      refuse(`The parameter ${name} is not supported`, name);
    }
  }
  // The job carries the client's access: the worker runs later, without the request.
  const job: JobParams = { level, ...(deps.access ? { access: deps.access } : {}) };

  for (const format of params.get('_outputFormat') ?? []) {
    if (!OUTPUT_FORMATS.includes(format.trim())) {
      throw new FhirError(badRequest(`_outputFormat '${format}' is not supported; use application/fhir+ndjson`, '_outputFormat'), 400);
    }
  }

  const since = params.get('_since');
  if (since) {
    const text = since[0].trim();
    const d = INSTANT_RE.test(text) ? new Date(text) : new Date(NaN);
    if (since.length > 1 || Number.isNaN(d.getTime())) {
      throw new FhirError(badRequest(`_since must be one instant such as 2026-09-01T00:00:00Z (got '${since.join("', '")}')`, '_since'), 400);
    }
    job.since = d.toISOString();
  }

  const typeValues = params.get('_type');
  if (typeValues) {
    const allowed = level === 'system' ? undefined : new Set(patientCompartmentTypes());
    const types = new Set<string>();
    for (const t of typeValues.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean)) {
      if (!deps.validator.defs.isResourceType(t)) {
        refuse(`_type: '${t}' is not a resource type`, '_type');
      } else if (allowed && !allowed.has(t)) {
        refuse(`_type: ${t} is outside the Patient compartment, so a ${level}-level export has none`, '_type');
      } else {
        types.add(t);
      }
    }
    job.types = [...types].sort();
  }

  const patientRefs = params.get('patient');
  let patients: string[] | undefined;
  if (patientRefs) {
    if (level === 'system') {
      refuse('The patient parameter applies to Patient and Group exports only', 'patient');
    } else {
      patients = patientRefs.map((ref) => {
        const m = PATIENT_REF_RE.exec(ref.trim());
        if (!m) {
          throw new FhirError(badRequest(`patient: '${ref}' is not a reference to a Patient`, 'patient'), 400);
        }
        return m[1];
      });
    }
  }

  if (level === 'group') {
    const group = await deps.repo.read<Group>('Group', idParam(req));
    job.groupId = group.id;
    const members = (group.member ?? [])
      .filter((m) => !m.inactive)
      .map((m) => PATIENT_REF_RE.exec(m.entity?.reference ?? '')?.[1])
      .filter((id): id is string => !!id);
    job.patientIds = [...new Set(patients ? members.filter((id) => patients.includes(id)) : members)].sort();
  } else if (patients) {
    job.patientIds = [...new Set(patients)].sort();
  }
  return { params: job, issues };
}
