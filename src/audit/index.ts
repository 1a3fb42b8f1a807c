/**
 * The audit trail (issue 6, "Audit"): a FHIR R4 AuditEvent for every read, search, export, write,
 * ingest, denied access and token request, stored as resources in the FHIR store so
 * `GET /fhir/AuditEvent?...` searches them (with `system/AuditEvent.rs`: `*` scopes do not cover
 * it, and no client may write it; see src/auth/permissions.ts). Events never hold record content.
 *
 * `openAudit({ repo, isResourceType })` returns:
 * - `middleware`: mount first in the app (`createApp({ audit })` does);
 * - `onAuthEvent`: pass as `openAuth({ onEvent })` for token issued / refused;
 * - `writer`: the batched queue (`flush()`, `close()`, `stats`).
 * Its own writes go straight to the repository, never through HTTP, so they are not audited.
 * Each event belongs to the organization of the records it is about, else of the client that
 * acted (src/store/audit-owners.ts): auditors find only their organizations' events.
 */
import type { RequestHandler } from 'express';
import type { AuditEvent } from '@medplum/fhirtypes';
import type { AccessEvent } from '../auth/middleware';
import type { TokenEvent } from '../auth/token';
import type { Repository } from '../store/repository';
import { tokenEvent, type SourceInfo } from './event';
import { auditMiddleware } from './middleware';
import { actorOrganization, AuditWriter, type AuditWriterOptions, type Log } from './writer';

export { classify, EXPORT_JOB_SYSTEM, INGEST_SOURCE_SYSTEM, type Classified, type EntityPart } from './classify';
export {
  CLIENT_SYSTEM,
  OPERATION_SYSTEM,
  outcomeOf,
  outcomeText,
  PURPOSE_OF_USE,
  requestEvent,
  TOKEN_ID_SYSTEM,
  tokenEvent,
  USER_SYSTEM,
  userLoginEvent,
  type AgentInfo,
  type UserLoginOutcome,
  type SourceInfo,
  type TokenOutcome,
} from './event';
export { auditMiddleware, PURPOSE_HEADER, purposeOf, splitTarget } from './middleware';
export { actorOrganization, AuditWriter, type AuditStats, type AuditWriterOptions } from './writer';
export { archiveAuditEvents, scheduleRetention, type ArchiveOptions, type ArchiveResult } from './retention';

export interface AuditOptions {
  /** Where events are written (`updateMany`). */
  repo: Pick<Repository, 'updateMany'>;
  /** Known resource types (`validator.defs.isResourceType`): other path segments are never recorded. */
  isResourceType: (type: string) => boolean;
  /** Public FHIR base URL (BASE_URL): names this server in `source.observer`. */
  baseUrl?: string;
  /** `source.site` (default: BASE_URL's host, else `PeerBridge`). */
  site?: string;
  writer?: AuditWriterOptions;
  /** Longest a request waits for room in the audit queue before it is answered 503 (ms; default 10 s). */
  queueWaitMs?: number;
  log?: Log;
}

export interface Audit {
  middleware: RequestHandler;
  /** For `openAuth({ onEvent })`: token issued and refused become AuditEvents (access events are recorded by the middleware). */
  onAuthEvent: (event: TokenEvent | AccessEvent) => void;
  writer: AuditWriter;
  /** This server as `AuditEvent.source`, for events built elsewhere (console sign-in). */
  source: SourceInfo;
  /** Queues an event built elsewhere (`actor`: the organization of the client it records, when it has exactly one). */
  record(event: AuditEvent, actor?: string): void;
  /** Writes what is queued. */
  flush(): Promise<void>;
  /** Writes what is queued and stops the timer. */
  close(): Promise<void>;
}

function siteOf(baseUrl: string | undefined): string {
  try {
    return baseUrl ? new URL(baseUrl).host : 'PeerBridge';
  } catch {
    return 'PeerBridge';
  }
}

/** Builds the audit trail on a repository. */
export function openAudit(options: AuditOptions): Audit {
  const writer = new AuditWriter(options.repo, { log: options.log, ...options.writer });
  const source: SourceInfo = { site: options.site ?? siteOf(options.baseUrl), uri: options.baseUrl ?? 'urn:peerbridge:server' };
  const record = (event: AuditEvent, actor?: string): void => writer.record(event, actor);
  return {
    middleware: auditMiddleware({
      record,
      isResourceType: options.isResourceType,
      source,
      log: options.log,
      room: () => writer.room(options.queueWaitMs ?? 10_000),
    }),
    onAuthEvent: (event) => {
      if (event.type === 'token-issued') {
        record(
          tokenEvent({ issued: true, clientId: event.clientId, clientName: event.clientName, scope: event.scope, tokenId: event.tokenId }, source, new Date()),
          actorOrganization({ organizations: event.organizations }),
        );
      } else if (event.type === 'token-refused') {
        // A refusal naming a registered client goes to that client's organization's trail.
        record(
          tokenEvent({ issued: false, clientId: event.clientId, error: event.error }, source, new Date()),
          actorOrganization(event.organizations ? { organizations: event.organizations } : undefined),
        );
      }
      // invalid-token and access-denied: the middleware records the 401/403 response with its path and client.
    },
    writer,
    source,
    record,
    flush: () => writer.flush(),
    close: () => writer.close(),
  };
}
