/**
 * The kick-off routes for the FHIR route table, each with its CapabilityStatement operation
 * (https://hl7.org/fhir/uv/bulkdata/export.html#bulk-data-kick-off-request):
 * `[base]/$export`, `[base]/Patient/$export`, `[base]/Group/[id]/$export`, by GET or POST.
 * A kick-off records the job (with its snapshot instant) and answers 202 with the status URL in
 * `Content-Location`; a worker plans the files in the background.
 */
import { randomUUID } from 'node:crypto';
import type { FhirHandler, Route, RouteCapability } from '../fhir-api/types';
import { queryString } from '../fhir-api/http-rules';
import { allOk } from '../outcomes';
import type { ExportLevel, JobStore } from './jobs';
import { parseKickoff } from './kickoff';
import { statusUrl } from './status';

const BULK = 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition';
export const EXPORT_DEFINITIONS = {
  system: `${BULK}/export`,
  patient: `${BULK}/patient-export`,
  group: `${BULK}/group-export`,
} as const;

const CAPABILITY: Record<ExportLevel, RouteCapability> = {
  system: { kind: 'operation', name: 'export', definition: EXPORT_DEFINITIONS.system, level: 'system' },
  patient: { kind: 'operation', name: 'export', definition: EXPORT_DEFINITIONS.patient, level: 'type', types: ['Patient'] },
  group: { kind: 'operation', name: 'export', definition: EXPORT_DEFINITIONS.group, level: 'instance', types: ['Group'] },
};

const PATTERNS: Record<ExportLevel, string> = {
  system: '/$export',
  patient: '/Patient/$export',
  group: '/Group/:id/$export',
};

export interface KickoffDeps {
  jobs: JobStore;
  ttlHours: number;
  /** Called after a job is recorded (starts the worker). */
  onJob: () => void;
}

/** The kick-off handler of one level. */
export function kickoffHandler(level: ExportLevel, deps: KickoffDeps): FhirHandler {
  return async (req, fhir) => {
    const { params, issues } = await parseKickoff(req, level, fhir);
    const id = randomUUID();
    const query = queryString(req.query);
    await deps.jobs.deleteExpired();
    await deps.jobs.create({
      id,
      request: `${req.baseUrl}${req.path}${query ? `?${query}` : ''}`,
      params,
      transactionTime: new Date(),
      ttlHours: deps.ttlHours,
      issues,
    });
    deps.onJob();
    const location = statusUrl(req.baseUrl, id);
    return {
      status: 202,
      headers: { 'content-location': location },
      body: allOk(`Export job ${id} accepted; poll ${location} for its status`),
    };
  };
}

/** GET and POST kick-off routes for the three levels (matched before the standard routes). */
export function exportRoutes(deps: KickoffDeps): Route[] {
  return (['system', 'patient', 'group'] as const).flatMap((level) => {
    const handler = kickoffHandler(level, deps);
    return [
      { method: 'GET' as const, pattern: PATTERNS[level], handler, capability: [CAPABILITY[level]] },
      { method: 'POST' as const, pattern: PATTERNS[level], handler },
    ];
  });
}
