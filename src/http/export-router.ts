/**
 * The Express side of Bulk Data export: status polling, cancellation and file download under the
 * FHIR base (`/fhir/bulkstatus/{id}`, `/fhir/bulkfiles/{id}/{Type}-{n}.ndjson`). These answers
 * are not FHIR resources (the manifest is plain JSON, files are NDJSON streams), so they sit
 * outside the FHIR route table; the logic is in src/export/status.ts and this file only adapts it to HTTP.
 * Errors go to the app's error middleware as OperationOutcomes.
 */
import express, { type Response } from 'express';
import type { SqlDriver } from '../store/repository';
import type { JobStore } from '../export/jobs';
import { cancelExport, exportFile, exportStatus, FILES_PATH, STATUS_PATH, type StatusAnswer } from '../export/status';
import { accessOf, type CallerLike } from '../access';

/** The client behind a request (`res.locals.auth`): it may reach only the jobs it started. */
const callerOf = (res: Response) => accessOf(res.locals.auth as CallerLike | undefined);

/** Characters per `res.write` of a file download. */
const CHUNK_CHARS = 32 * 1024;

export interface ExportRouterDeps {
  jobs: JobStore;
  driver: SqlDriver;
  /** Public FHIR base URL (src/config `publicBaseUrl`) for status and file URLs. */
  baseUrl: string;
  log?: (level: 'info' | 'warn' | 'error', message: string, meta?: Record<string, unknown>) => void;
}

function send(res: Response, answer: StatusAnswer): void {
  res.status(answer.status).set(answer.headers);
  if (answer.manifest) {
    res.type('application/json').send(JSON.stringify(answer.manifest));
  } else {
    res.end();
  }
}

/** Resolves when `res` can take more data, or false when the client has gone. */
function writable(res: Response): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => () => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = done(true);
    const onClose = done(false);
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}

/** The router to mount at the FHIR base (`app.use('/fhir', router)`). */
export function exportRouter(deps: ExportRouterDeps): express.Router {
  const router = express.Router();

  router.get(`/${STATUS_PATH}/:id`, async (req, res) => {
    send(res, await exportStatus(deps.jobs, String(req.params.id), deps.baseUrl, callerOf(res)));
  });
  router.delete(`/${STATUS_PATH}/:id`, async (req, res) => {
    send(res, await cancelExport(deps.jobs, String(req.params.id), callerOf(res)));
  });
  router.get(`/${FILES_PATH}/:id/:file`, async (req, res) => {
    const file = await exportFile(deps.jobs, deps.driver, String(req.params.id), String(req.params.file), callerOf(res));
    res.status(200).set(file.headers);
    try {
      for await (const lines of file.lines) {
        if (res.destroyed) {
          return;
        }
        // Written in chunks of ~32 KB, not one string per batch: strings over V8's large-object
        // threshold (128 KB) are only freed by full GCs, so batch-sized strings piled up in RSS.
        let ok = true;
        let chunk = '';
        for (const line of lines) {
          chunk += `${line}\n`;
          if (chunk.length >= CHUNK_CHARS) {
            ok = res.write(chunk) && ok;
            chunk = '';
          }
        }
        if (chunk) {
          ok = res.write(chunk) && ok;
        }
        if (!ok && !(await writable(res))) {
          return;
        }
      }
      res.end();
    } catch (err) {
      // Headers (and part of the file) are sent: all that is left is to cut the response short.
      deps.log?.('error', 'bulk export download failed', { path: req.path, error: err instanceof Error ? err.stack : String(err) });
      res.destroy(err instanceof Error ? err : new Error(String(err)));
    }
  });
  return router;
}
