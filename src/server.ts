/**
 * `npm start` / `peerbridge serve`: loads the configuration, the validator and the store
 * (PostgreSQL when DATABASE_URL is set, else embedded PGlite in DATA_DIR), then listens; closes
 * the store on SIGINT/SIGTERM. `start()` runs `WORKERS` such processes under a cluster primary
 * (src/cluster.ts) when there is more than one.
 */
import { loadConfig, publicBaseUrl } from './config';
import { openBulkExport } from './export';
import { answerClientErrors, createApp } from './http/app';
import { join } from 'node:path';
import { openAudit, scheduleRetention } from './audit';
import { openStore } from './store';
import { UNBUDGETED, Validator } from './validation';
import { pipelinePool, pooledPipeline } from './pipeline/pool';
import { PackageError } from './validation/packages';
import { loadSources } from './translate';
import { openAuth } from './auth';
import { fhirRouter, transactionCommitter } from './fhir-api';
import { MAPPINGS_DIR } from './pipeline/sources';
import { RejectStore } from './store/rejects';
import { publishConceptMaps } from './pipeline/concept-maps';
import { mllpIngest } from './pipeline/mllp-ingest';
import { retryAwaiting } from './pipeline/retry-rejects';
import { storedRecords } from './store/stored-records';
import { buildAck } from './inbound/hl7v2';
import { startMllpListener, type MllpListener } from './mllp/listener';
import { loadRules } from './domain/rules';
import { loadPackageTerms } from './fhir/context';
import { openConsole } from './users';
import { createLogger } from './ops/logger';
import { collectProcessMetrics } from './ops/metrics';
import { startMetricsListener, type MetricsListener } from './ops/metrics-server';
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { runPrimary, workerCount } from './cluster';

/** The entry point: the cluster primary when WORKERS > 1 (PostgreSQL), else (and in each worker) the server itself. */
export async function start(): Promise<void> {
  if (cluster.isPrimary) {
    const config = loadConfig();
    const { count, warning } = workerCount(config);
    if (warning) console.warn(JSON.stringify({ level: 'warn', message: warning }));
    if (count > 1) {
      const log = (level: 'info' | 'warn' | 'error', message: string, meta?: Record<string, unknown>): void =>
        console[level === 'info' ? 'log' : level](JSON.stringify({ level, message, ...meta }));
      process.exit(await runPrimary({ workers: count, log }));
    }
  }
  await serve();
}

export async function serve(): Promise<void> {
  const config = loadConfig();
  // JSON lines filtered by LOG_LEVEL (src/ops/logger.ts); request lines from the app (src/http/request-log.ts).
  const log = createLogger(config.LOG_LEVEL);
  const baseUrl = publicBaseUrl(config);
  const started = performance.now();
  // IG_PACKAGES: implementation guides loaded beside base R4 and PeerBridge's profiles; the workers load the same.
  const validator = loadValidator(config.IG_PACKAGES);
  for (const i of validator.defs.loadIssues) {
    log(i.severity === 'warning' ? 'warn' : 'info', `IG_PACKAGES: ${i.details?.text ?? ''}`);
  }
  // Mapping files are checked before anything opens: a bad one stops start-up with file, line and field.
  const sources = loadSources(config.MAPPINGS_DIR ?? MAPPINGS_DIR);
  const store = await openStore(config);
  const rejects = await RejectStore.open(store.driver);
  await publishConceptMaps(store, sources);
  // Bulk Data $export (src/export): kick-off routes in the FHIR route table, status and files beside it.
  const bulk = await openBulkExport({ store, log });
  const pipeline = { rules: loadRules(config.RULES_FILE), terms: loadPackageTerms() };
  // Request bodies are validated, and outside sources translated (src/pipeline/pool.ts), in worker threads loading the same
  // definitions, mappings and rules (VALIDATION_WORKERS=0: in the request thread).
  const validationPool =
    config.VALIDATION_WORKERS === 0
      ? undefined
      : pipelinePool({
          rules: pipeline.rules,
          // Under WORKERS processes, the cores are split between them (each process's threads start on demand).
          size: config.VALIDATION_WORKERS ?? (cluster.isWorker ? Math.max(1, Math.ceil(availableParallelism() / workerCount(config).count)) : undefined),
          maxQueue: config.VALIDATION_QUEUE,
          budget: { maxElements: config.VALIDATION_MAX_ELEMENTS, timeoutMs: config.VALIDATION_TIMEOUT_MS },
          definitions: validator.defs.options,
          // The first worker loads with the first request that validates (~0.3 s once), not at start: an idle server holds one validator, not two.
          warmAtStart: false,
          log,
        });
  // Auth is on unless AUTH_DISABLED=true (refused when NODE_ENV=production; openAuth warns when off).
  // Audit trail (src/audit): AuditEvents queued and written to the store in batches; token events come from openAuth.
  const audit = openAudit({
    repo: store,
    isResourceType: (t) => validator.defs.isResourceType(t),
    baseUrl,
    log,
    writer: { highWater: config.AUDIT_QUEUE_HIGH_WATER, maxQueued: Math.max(10_000, config.AUDIT_QUEUE_HIGH_WATER * 2) },
    queueWaitMs: config.AUDIT_QUEUE_WAIT_MS,
  });
  // AUDIT_RETENTION_DAYS: older AuditEvents archived to NDJSON and deleted, at start and hourly (src/audit/retention.ts).
  const retention =
    config.AUDIT_RETENTION_DAYS === undefined
      ? undefined
      : scheduleRetention({
          driver: store.driver,
          days: config.AUDIT_RETENTION_DAYS,
          dir: config.AUDIT_ARCHIVE_DIR ?? join(config.DATA_DIR, 'audit-archive'),
          log,
        });
  const auth = await openAuth({ driver: store.driver, baseUrl, log, isResourceType: (t) => validator.defs.isResourceType(t), onEvent: audit.onAuthEvent });
  // Sign-in for people (src/users): console users and sessions in the store (peerbridge users add ...).
  const consoleUsers = await openConsole({ driver: store.driver });
  // Pipeline runs go to the pool's workers too (src/pipeline/pool.ts); reruns of kept rejects run here when they are all busy.
  const pipelineRunner = validationPool ? pooledPipeline(validationPool) : undefined;
  const app = createApp({
    validator,
    validationPool,
    pipelineRunner,
    store,
    routes: bulk.routes,
    bulkExport: bulk,
    config,
    log,
    logger: log,
    sources,
    rejects,
    pipeline,
    auth,
    audit,
    console: consoleUsers,
  });
  let mllp: MllpListener | undefined;
  if (config.MLLP_PORT !== undefined) {
    const hl7 = sources.get(config.MLLP_SOURCE);
    if (!hl7 || hl7.format !== 'hl7v2')
      throw new Error(`MLLP_SOURCE: '${config.MLLP_SOURCE}' is not an hl7v2 mapping folder (sources: ${[...sources.keys()].join(', ')})`);
    // MLLP commits pipeline output, validated as it was made: not validated twice.
    const commit = transactionCommitter(fhirRouter(), { repo: store, validator, validation: validationPool?.withBudget(UNBUDGETED), log }, baseUrl, {
      entriesValidated: true,
    });
    mllp = await startMllpListener({
      port: config.MLLP_PORT,
      host: config.MLLP_HOST,
      maxMessageBytes: config.MLLP_MAX_MESSAGE_BYTES,
      onOversize: () => buildAck(undefined, 'AR', [{ message: `Message over ${config.MLLP_MAX_MESSAGE_BYTES} bytes (MLLP_MAX_MESSAGE_BYTES): not read` }]),
      log,
      // The server's own view: messages resolve against every stored record, and unblock the rejects awaiting what they store.
      handler: mllpIngest(hl7, {
        validator,
        ...pipeline,
        stored: storedRecords(store),
        commit,
        saveRejects: (list, owners) => rejects.add(list, owners),
        ...(pipelineRunner ? { translate: pipelineRunner.source } : {}),
        retryAwaiting: (written) =>
          retryAwaiting(hl7.name, written, {
            rejects,
            sources,
            pipeline: { validator, ...pipeline, stored: storedRecords(store) },
            commit,
            ...(pipelineRunner ? { translate: pipelineRunner.retry } : {}),
          }),
      }),
    });
  }
  // Prometheus metrics: on the main port to the system/Metrics.read scope, and without a token on METRICS_PORT when set.
  collectProcessMetrics();
  let metrics: MetricsListener | undefined;
  if (config.METRICS_PORT !== undefined) metrics = await startMetricsListener({ port: config.METRICS_PORT, host: config.METRICS_HOST });
  await new Promise<void>((resolve) => {
    const server = app.listen(config.PORT, config.HOST, () => {
      const ms = Math.round(performance.now() - started);
      const where = config.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : `PGlite in ${config.DATA_DIR}`;
      const worker = cluster.isWorker ? `, worker ${process.pid}` : '';
      console.log(
        `PeerBridge listening on port ${config.PORT}, FHIR base ${baseUrl} (${validator.profileUrls().length} profiles, store: ${where}, ready in ${ms} ms${worker})`,
      );
      bulk.start();
      if (mllp) console.log(`HL7 v2 MLLP listener on port ${mllp.port} (source ${config.MLLP_SOURCE})`);
      if (metrics) console.log(`Prometheus metrics on http://${config.METRICS_HOST}:${metrics.port}/metrics`);
      resolve();
    });
    answerClientErrors(server);
    if (cluster.isWorker && process.env.NODE_ENV === 'test') {
      // Tests only (test/cluster.test.ts): which worker answered.
      server.prependListener('request', (_req, res) => res.setHeader('X-Worker-Pid', String(process.pid)));
    }
    const stop = (): void => {
      // Stop taking requests, let those in flight finish, then close the store so PGlite flushes its files.
      server.close(() => {
        Promise.resolve(mllp?.close())
          .then(() => metrics?.close())
          .then(() => bulk.close())
          .then(() => retention?.stop())
          .then(() => audit.close())
          .then(() => store.close())
          .then(() => validationPool?.close())
          .then(
            () => process.exit(0),
            () => process.exit(2),
          );
      });
      server.closeIdleConnections();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** The validator with the IG_PACKAGES; a package that cannot be read stops start-up, named. */
function loadValidator(igPackages: string[]): Validator {
  try {
    return Validator.create(igPackages.length > 0 ? { igPackages } : undefined);
  } catch (e) {
    if (e instanceof PackageError) throw new Error(`IG_PACKAGES: ${e.message}`);
    throw e;
  }
}

if (require.main === module) {
  start().catch((err: unknown) => {
    // Exit 2, as `peerbridge serve` (docs/cli.md, "Exit codes"): bad configuration, a store or package that cannot be opened.
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(2);
  });
}
