/**
 * Builds FHIR R4 AuditEvents (https://hl7.org/fhir/R4/auditevent.html) for requests and token
 * events, following the FHIR RESTful interaction pattern
 * (https://hl7.org/fhir/R4/auditevent.html#6.4.4.3): `type` rest (or DICOM Export / Import / User
 * Authentication), `subtype` the interaction, `action`, `recorded`, `outcome` 0/4/8/12, the client
 * as the requesting agent, this server as `source`, and what was touched as `entity`.
 *
 * Nothing of a record's content goes in: no body, no query value, no token. `outcomeDesc` is
 * built here from the status and fixed words, never from an error message.
 */
import { randomUUID } from 'node:crypto';
import type { AuditEvent, AuditEventAgent, AuditEventEntity, CodeableConcept, Coding } from '@medplum/fhirtypes';
import type { Classified, EntityPart } from './classify';

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const EVENT_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
const INTERACTION = 'http://hl7.org/fhir/restful-interaction';
const RESOURCE_TYPES = 'http://hl7.org/fhir/resource-types';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const SECURITY_ROLE_TYPE = 'http://terminology.hl7.org/CodeSystem/extra-security-role-type';
const SOURCE_TYPE = 'http://terminology.hl7.org/CodeSystem/security-source-type';
export const PURPOSE_OF_USE = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
/** System of the client ids in `agent.who.identifier` (registered Backend Services clients). */
export const CLIENT_SYSTEM = 'http://peerbridge.org/fhir/sid/client-id';
/** System of console users' names in `agent.who.identifier` (people signed in to the console, src/users). */
export const USER_SYSTEM = 'http://peerbridge.org/fhir/user';
/** System of an access token's `jti` (token issued events). */
export const TOKEN_ID_SYSTEM = 'urn:ietf:params:oauth:jti';
/** System of the operation names in a second `subtype` coding. */
export const OPERATION_SYSTEM = 'http://peerbridge.org/fhir/CodeSystem/audit-operation';

const TYPES: Record<Classified['kind'] | 'login', Coding> = {
  rest: { system: EVENT_TYPE, code: 'rest', display: 'RESTful Operation' },
  export: { system: DCM, code: '110106', display: 'Export' },
  import: { system: DCM, code: '110107', display: 'Import' },
  login: { system: DCM, code: '110114', display: 'User Authentication' },
};
const CLAIMED_ID_RE = /^[A-Za-z0-9_\-.]{1,64}$/;
const ROLES: Record<EntityPart['role'], string> = { '3': 'Report', '4': 'Domain Resource', '13': 'Security Resource', '20': 'Job', '24': 'Query' };

/** Who made the request (an authenticated client, a person signed in to the console, or nobody known). */
export interface AgentInfo {
  clientId?: string;
  clientName?: string;
  /** A console user (src/users): named as a user (`USER_SYSTEM`), in place of the client. */
  userName?: string;
  /** The caller's network address (IP). */
  address?: string;
  /** A purpose of use code (v3 PurposeOfUse) the client stated. */
  purposeOfUse?: string;
}

/** This server, as `AuditEvent.source`. */
export interface SourceInfo {
  /** Site name (e.g. the deployment's host). */
  site: string;
  /** The FHIR base URL or another URI naming this server. */
  uri: string;
}

/** AuditEvent.outcome for an HTTP status (0 success, 4 minor failure, 8 serious failure). */
export function outcomeOf(status: number): '0' | '4' | '8' {
  return status < 400 ? '0' : status < 500 ? '4' : '8';
}

const STATUS_WORDS: Record<number, string> = {
  400: 'bad request',
  401: 'authentication failed: no valid access token',
  403: 'access denied: the access token does not allow this request',
  404: 'not found',
  405: 'method not allowed',
  406: 'not acceptable',
  409: 'conflict',
  410: 'gone',
  412: 'precondition failed',
  413: 'request too large',
  415: 'unsupported media type',
  422: 'unprocessable',
  429: 'rate limited',
  500: 'server error',
  501: 'not implemented',
  503: 'unavailable',
  499: 'connection closed by the client before the response was complete',
};

/** `HTTP 403: access denied ...`: the status and fixed words only. */
export function outcomeText(status: number): string {
  const words = STATUS_WORDS[status] ?? (status < 400 ? 'success' : status < 500 ? 'client error' : 'server error');
  return `HTTP ${status}: ${words}`;
}

function agentOf(info: AgentInfo): AuditEventAgent {
  const agent: AuditEventAgent = {
    type: { coding: [{ system: DCM, code: '110153', display: 'Source Role ID' }] },
    requestor: true,
  };
  if (info.userName) {
    agent.type = { coding: [{ system: SECURITY_ROLE_TYPE, code: 'humanuser', display: 'human user' }] };
    agent.who = { identifier: { system: USER_SYSTEM, value: info.userName }, display: info.userName };
    agent.altId = info.userName;
  } else if (info.clientId) {
    agent.who = { identifier: { system: CLIENT_SYSTEM, value: info.clientId }, ...(info.clientName ? { display: info.clientName } : {}) };
  } else {
    agent.name = 'unauthenticated caller';
  }
  if (info.address) agent.network = { address: info.address, type: '2' };
  if (info.purposeOfUse) agent.purposeOfUse = [{ coding: [{ system: PURPOSE_OF_USE, code: info.purposeOfUse }] }];
  return agent;
}

function entityOf(part: EntityPart): AuditEventEntity {
  const entity: AuditEventEntity = {};
  if (part.reference) entity.what = { reference: part.reference };
  else if (part.identifier) entity.what = { identifier: part.identifier };
  entity.type = part.resourceType ? { system: RESOURCE_TYPES, code: part.resourceType } : { system: ENTITY_TYPE, code: '2', display: 'System Object' };
  entity.role = { system: OBJECT_ROLE, code: part.role, display: ROLES[part.role] };
  if (part.details?.length) entity.detail = part.details.map(([type, value]) => ({ type, valueString: value }));
  return entity;
}

function sourceOf(source: SourceInfo): AuditEvent['source'] {
  return {
    site: source.site,
    observer: { identifier: { system: 'urn:ietf:rfc:3986', value: source.uri }, display: 'PeerBridge' },
    type: [{ system: SOURCE_TYPE, code: '4', display: 'Application Server' }],
  };
}

/** The AuditEvent of one request (server-assigned UUID id). */
export function requestEvent(c: Classified, agent: AgentInfo, source: SourceInfo, status: number, start: Date, end: Date): AuditEvent {
  const subtype: Coding[] = [];
  if (c.interaction) subtype.push({ system: INTERACTION, code: c.interaction, display: c.interaction });
  if (c.operation) subtype.push({ system: OPERATION_SYSTEM, code: c.operation, display: c.operation });
  const event: AuditEvent = {
    resourceType: 'AuditEvent',
    id: randomUUID(),
    type: TYPES[c.kind],
    ...(subtype.length ? { subtype } : {}),
    action: c.action,
    period: { start: start.toISOString(), end: end.toISOString() },
    recorded: end.toISOString(),
    outcome: outcomeOf(status),
    outcomeDesc: outcomeText(status),
    agent: [agentOf(agent)],
    source: sourceOf(source),
  };
  if (c.entities.length) event.entity = c.entities.map(entityOf);
  return event;
}

/** The outcome of a token request, as the token endpoint reported it (no token, no assertion). */
export interface TokenOutcome {
  issued: boolean;
  clientId?: string;
  clientName?: string;
  /** Granted scope (issued). */
  scope?: string;
  /** The access token's `jti` (issued): lets an auditor tie requests to the token. */
  tokenId?: string;
  /** OAuth error code, or `HTTP <status>` when the endpoint refused before reading the request (refused). */
  error?: string;
  address?: string;
}

/** The AuditEvent of a token request (DICOM User Authentication / Login). */
export function tokenEvent(t: TokenOutcome, source: SourceInfo, at: Date): AuditEvent {
  const entity: AuditEventEntity[] = [];
  if (t.issued && t.tokenId) {
    entity.push({
      what: { identifier: { system: TOKEN_ID_SYSTEM, value: t.tokenId } },
      type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
      role: { system: OBJECT_ROLE, code: '13', display: 'Security Resource' },
      ...(t.scope ? { detail: [{ type: 'scope', valueString: t.scope }] } : {}),
    });
  }
  // A refused request's client id is only what its assertion claimed: kept when it looks like an id, and marked.
  const claimed = t.clientId !== undefined && CLAIMED_ID_RE.test(t.clientId) ? t.clientId : undefined;
  const agent = agentOf({
    clientId: t.issued ? t.clientId : claimed,
    clientName: t.issued ? t.clientName : 'claimed in the client assertion, not verified',
    address: t.address,
  });
  const subtype: CodeableConcept['coding'] = [{ system: DCM, code: '110122', display: 'Login' }];
  return {
    resourceType: 'AuditEvent',
    id: randomUUID(),
    type: TYPES.login,
    subtype,
    action: 'E',
    recorded: at.toISOString(),
    outcome: t.issued ? '0' : '4',
    outcomeDesc: t.issued ? 'access token issued' : `access token refused: ${t.error ?? 'invalid_request'}`,
    agent: [agent],
    source: sourceOf(source),
    ...(entity.length ? { entity } : {}),
  };
}

/** A console sign-in, refusal or sign-out (src/users), as the console reported it: never a password or a session id. */
export interface UserLoginOutcome {
  kind: 'login' | 'refused' | 'locked' | 'logout';
  /** The user name: signed in or out, or (refused, locked) as given at sign-in, when it looks like a name. */
  userName?: string;
  address?: string;
}

const LOGIN_WORDS: Record<UserLoginOutcome['kind'], string> = {
  login: 'console sign-in',
  refused: 'console sign-in refused: wrong user name or password',
  locked: 'console sign-in refused: the user name is locked out after repeated failures',
  logout: 'console sign-out',
};

/** The AuditEvent of a console sign-in or sign-out (DICOM User Authentication / Login or Logout). */
export function userLoginEvent(t: UserLoginOutcome, source: SourceInfo, at: Date): AuditEvent {
  const ok = t.kind === 'login' || t.kind === 'logout';
  const agent = agentOf({ address: t.address, ...(ok ? { userName: t.userName } : {}) });
  if (!ok && t.userName) {
    // A refused name is only what was typed: kept to show attacks on an account, and marked.
    agent.who = { identifier: { system: USER_SYSTEM, value: t.userName }, display: 'claimed at sign-in, not verified' };
  }
  return {
    resourceType: 'AuditEvent',
    id: randomUUID(),
    type: TYPES.login,
    subtype: [t.kind === 'logout' ? { system: DCM, code: '110123', display: 'Logout' } : { system: DCM, code: '110122', display: 'Login' }],
    action: 'E',
    recorded: at.toISOString(),
    outcome: ok ? '0' : '4',
    outcomeDesc: LOGIN_WORDS[t.kind],
    agent: [agent],
    source: sourceOf(source),
  };
}
