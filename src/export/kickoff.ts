/**
 * The kick-off request (https://hl7.org/fhir/uv/bulkdata/export.html#bulk-data-kick-off-request):
 * its headers and parameters checked and turned into what a job exports. Parameters come from
 * the query string (GET) or a `Parameters` body (POST; query parameters are accepted too), read
 * by parameters.ts exactly as the scope check reads them.
 *
 * - `Prefer: respond-async` is required (400 without it).
 * - `_outputFormat`: `application/fhir+ndjson`, `application/ndjson` or `ndjson`; anything else 400.
 * - `_type`: comma-separated and/or repeated resource types; `_since`: an instant; `patient`
 *   (Patient and Group levels): references to Patients.
 * - A client whose scopes do not read every type (`access.readTypes`) gets only types it may
 *   read: a `_type` naming another is a 403, and without `_type` it gets every type it may read.
 * - Anything else (`_elements`, `_typeFilter`, `includeAssociatedData`, unknown names), and
 *   `_type` values this level cannot export: 400, or under `Prefer: handling=lenient` ignored with
 *   a warning OperationOutcome listed in the manifest's `error` array ("SHOULD include an
 *   OperationOutcome ... for each of these parameters").
 */
import type { Group, OperationOutcome } from '@medplum/fhirtypes';
import type { FhirDeps, FhirRequest } from '../fhir-api/types';
import { badRequest, forbidden } from '../outcomes';
import { idParam } from '../fhir-api/http-rules';
import { patientCompartmentTypes } from '../store/search-params';
import type { ExportLevel, JobParams } from './jobs';
import { kickoffParameters, typeValues } from './parameters';

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
  return new Set(
    (header ?? '')
      .split(/[,;]/)
      .map((t) =>
        t
          .trim()
          .replace(/\s*=\s*/, '=')
          .toLowerCase(),
      )
      .filter(Boolean),
  );
}

/**
 * What a client whose scopes read only `readable` exports: the types it asked for, each of which
 * it must be allowed to read (403 otherwise, like the scope check before the handler; this is the
 * check on exactly what the job exports), or without `_type` every readable type the level holds
 * (Bulk Data: "all supported resources within the scope of the client authorization"); 403 when
 * that leaves none.
 */
function readableTypesOf(requested: string[] | undefined, readable: readonly string[], level: ExportLevel, allowed: Set<string> | undefined): string[] {
  if (requested) {
    const denied = requested.filter((t) => !readable.includes(t));
    if (denied.length > 0) {
      throw forbidden(
        `The access token's scopes do not allow read on ${denied.join(', ')}: it needs system/${denied[0]}.r or a scope that includes it`,
        '_type',
      );
    }
    return requested;
  }
  const types = readable.filter((t) => !allowed || allowed.has(t));
  if (types.length === 0) {
    throw forbidden(`The access token's scopes allow reading none of the types a ${level}-level export holds`, '_type');
  }
  return [...types].sort();
}

/**
 * Checks the kick-off and works out what to export. Group exports read the Group (404 when
 * unknown, 410 when deleted) and take its active Patient members.
 */
export async function parseKickoff(req: FhirRequest, level: ExportLevel, deps: FhirDeps): Promise<Kickoff> {
  const prefer = preferTokens(req.headers.prefer);
  if (!prefer.has('respond-async')) {
    throw badRequest('Bulk Data export is asynchronous: send the header Prefer: respond-async', 'Prefer');
  }
  const lenient = prefer.has('handling=lenient');
  const issues: OperationOutcome[] = [];
  const refuse = (text: string, expression: string): void => {
    if (!lenient) {
      throw badRequest(`${text} (send Prefer: handling=lenient to have it ignored)`, expression);
    }
    issues.push(warning(`${text}; ignored`, expression));
  };
  const params = kickoffParameters(req.method, Object.entries(req.query), req.body);
  for (const name of params.keys()) {
    if (!SUPPORTED.has(name) && !IGNORED.has(name)) {
      refuse(`The parameter ${name} is not supported`, name);
    }
  }
  // The job carries the client's access: the worker runs later, without the request.
  const job: JobParams = { level, ...(deps.access ? { access: deps.access } : {}) };

  for (const format of params.get('_outputFormat') ?? []) {
    if (!OUTPUT_FORMATS.includes(format.trim())) {
      throw badRequest(`_outputFormat '${format}' is not supported; use application/fhir+ndjson`, '_outputFormat');
    }
  }

  const since = params.get('_since');
  if (since) {
    const text = since[0].trim();
    const d = INSTANT_RE.test(text) ? new Date(text) : new Date(NaN);
    if (since.length > 1 || Number.isNaN(d.getTime())) {
      throw badRequest(`_since must be one instant such as 2026-09-01T00:00:00Z (got '${since.join("', '")}')`, '_since');
    }
    job.since = d.toISOString();
  }

  const allowed = level === 'system' ? undefined : new Set(patientCompartmentTypes());
  const requested = typeValues(params);
  if (requested) {
    const types = new Set<string>();
    for (const t of requested) {
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
  const readable = deps.access?.readTypes;
  if (readable) {
    job.types = readableTypesOf(job.types, readable, level, allowed);
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
          throw badRequest(`patient: '${ref}' is not a reference to a Patient`, 'patient');
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
