/**
 * Prometheus metrics (issue 16 item 3), with prom-client on a registry of PeerBridge's own:
 *
 * - `peerbridge_http_requests_total{method,route,status}` and
 *   `peerbridge_http_request_duration_seconds{method,route}`: every request, by route pattern
 *   (`/fhir/:type/:id`, src/http/route-pattern.ts), never the URL with ids or query values;
 * - `peerbridge_ingest_records_total{source,kind,outcome}`: records ingested (HTTP and MLLP) by
 *   outcome, `accepted`, `rejected`, or `awaiting` (kept until the record it names is stored);
 * - `peerbridge_audit_queue_depth`: AuditEvents waiting to be written, from the provider set
 *   with `setAuditQueueDepthProvider` (0 without one);
 * - `peerbridge_export_jobs{state}`: Bulk Data jobs not yet expired, by state, from the provider
 *   set with `setExportJobsProvider` (read from the store when scraped);
 * - the process metrics of prom-client (`collectProcessMetrics()`, called by the server only).
 *
 * One registry per process: the server has one app; tests read differences.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export const metricsRegistry = new Registry();

/** The labels' fixed values: anything else is counted as `other` (bounded cardinality). */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
export const JOB_STATES = ['accepted', 'in-progress', 'completed', 'failed'] as const;
export type IngestOutcome = 'accepted' | 'rejected' | 'awaiting';

const httpRequests = new Counter({
  name: 'peerbridge_http_requests_total',
  help: 'HTTP requests answered, by method, route pattern and status code',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [metricsRegistry],
});

const httpDuration = new Histogram({
  name: 'peerbridge_http_request_duration_seconds',
  help: 'Time from a request to its response finished, by method and route pattern',
  labelNames: ['method', 'route'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [metricsRegistry],
});

const ingestRecords = new Counter({
  name: 'peerbridge_ingest_records_total',
  help: 'Records ingested (POST /ingest, MLLP) by source, canonical record kind and outcome (accepted, rejected, awaiting)',
  labelNames: ['source', 'kind', 'outcome'] as const,
  registers: [metricsRegistry],
});

let auditDepth: (() => number) | undefined;
let exportJobs: (() => Promise<Partial<Record<string, number>>>) | undefined;

new Gauge({
  name: 'peerbridge_audit_queue_depth',
  help: 'AuditEvents queued in memory, not yet written to the store',
  registers: [metricsRegistry],
  collect() {
    this.set(auditDepth?.() ?? 0);
  },
});

new Gauge({
  name: 'peerbridge_export_jobs',
  help: 'Bulk Data export jobs not yet expired, by state',
  labelNames: ['state'] as const,
  registers: [metricsRegistry],
  async collect() {
    const counts = exportJobs ? await exportJobs().catch(() => undefined) : undefined;
    for (const state of JOB_STATES) this.set({ state }, counts?.[state] ?? 0);
  },
});

/** Where the audit queue's depth comes from (the audit writer's `stats.queued`); undefined: 0. */
export function setAuditQueueDepthProvider(fn: (() => number) | undefined): void {
  auditDepth = fn;
}

/** Where export job counts by state come from (src/export JobStore.countByStatus); undefined: 0. */
export function setExportJobsProvider(fn: (() => Promise<Partial<Record<string, number>>>) | undefined): void {
  exportJobs = fn;
}

/** One answered request. `route` is a pattern, never the path as sent. */
export function recordRequest(method: string, route: string, status: number, seconds: number): void {
  const m = METHODS.has(method) ? method : 'other';
  httpRequests.inc({ method: m, route, status: String(status) });
  httpDuration.observe({ method: m, route }, seconds);
}

/** One ingest run's records by kind and outcome (only runs that stored: dry runs are not counted). */
export function recordIngest(source: string, byKind: Record<string, Partial<Record<IngestOutcome, number>>>): void {
  for (const [kind, outcomes] of Object.entries(byKind)) {
    for (const [outcome, n] of Object.entries(outcomes)) {
      if (n) ingestRecords.inc({ source, kind, outcome }, n);
    }
  }
}

let processMetrics = false;

/** Adds prom-client's process metrics (CPU, memory, event loop lag, handles) once. */
export function collectProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: metricsRegistry, prefix: 'peerbridge_' });
}

/** The exposition text and its content type. */
export async function metricsText(): Promise<{ contentType: string; body: string }> {
  return { contentType: metricsRegistry.contentType, body: await metricsRegistry.metrics() };
}
