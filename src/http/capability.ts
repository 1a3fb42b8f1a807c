/**
 * The CapabilityStatement (https://hl7.org/fhir/R4/capabilitystatement.html), generated from the
 * route table: the interactions and operations the routes serve, for every resource type, with
 * the search parameters the store indexes for that type (from the base spec's definitions) and
 * the profiles the validator knows.
 */
import type {
  CapabilityStatement,
  CapabilityStatementRestInteraction,
  CapabilityStatementRestResource,
  CapabilityStatementRestResourceOperation,
  CapabilityStatementRestResourceSearchParam,
  CapabilityStatementRestSecurity,
} from '@medplum/fhirtypes';
import type { Route, RouteCapability } from '../fhir-api';
import { paramsOf } from '../store/search-params';
import type { Validator } from '../validation';
import { FHIR_JSON } from '../outcomes/fhir-json';

/** Search result parameters every type supports (https://hl7.org/fhir/R4/search.html#Summary). */
const COMMON_SEARCH: CapabilityStatementRestResourceSearchParam[] = [
  { name: '_id', type: 'token' },
  { name: '_lastUpdated', type: 'date' },
];

/** Interactions that write: left out for types only the server writes. */
const WRITES = new Set<string>(['create', 'update', 'delete']);

/** The R4 resource types (CapabilityStatement.rest.resource.type's required binding). */
const RESOURCE_TYPES = 'http://hl7.org/fhir/ValueSet/resource-types';

export interface CapabilityOptions {
  /**
   * Types clients may read but never write (the audit trail with auth on: src/auth ADMIN_TYPES):
   * their entries list no create, update or delete, so the statement says what the server allows.
   */
  serverWrittenTypes?: ReadonlySet<string>;
  /** `rest.security`: with auth on, SMART Backend Services and the token endpoint (src/auth `capabilitySecurity`). */
  security?: CapabilityStatementRestSecurity;
}

/**
 * The statement for the routes, at the public base `url`. Every type the definitions know that
 * R4 names (the definitions also hold a few later types, such as SubscriptionStatus, that an R4
 * statement may not list).
 */
export function capabilityStatement(validator: Validator, url: string, routes: readonly Route[] = [], options: CapabilityOptions = {}): CapabilityStatement {
  const caps = routes.flatMap((r) => r.capability ?? []);
  const profiles = new Map<string, string[]>();
  for (const r of validator.defs.packageResourceList) {
    if (r.resourceType === 'StructureDefinition' && r.kind === 'resource' && r.derivation === 'constraint' && r.url && r.type) {
      profiles.set(r.type, [...(profiles.get(r.type) ?? []), r.url]);
    }
  }
  for (const p of validator.defs.packageProfiles()) {
    profiles.set(p.type, [...(profiles.get(p.type) ?? []), p.url]);
  }
  const r4Types = validator.defs.codeIndex(RESOURCE_TYPES);
  const allTypes = [...validator.defs.resourceTypes].filter((t) => t !== 'Resource' && t !== 'DomainResource' && (r4Types?.hasCode(t) ?? true)).sort();
  const appliesTo = (c: RouteCapability, type: string): boolean => !('types' in c) || !c.types || c.types.includes(type as never);
  const resource: CapabilityStatementRestResource[] = allTypes.map((type) => {
    const readOnly = options.serverWrittenTypes?.has(type) ?? false;
    const interaction = caps
      .filter((c): c is Extract<RouteCapability, { kind: 'instance' | 'type' }> => (c.kind === 'instance' || c.kind === 'type') && appliesTo(c, type))
      .filter((c) => !(readOnly && WRITES.has(c.interaction)))
      .map((c) => ({ code: c.interaction }));
    const operation: CapabilityStatementRestResourceOperation[] = caps
      .filter((c): c is Extract<RouteCapability, { kind: 'operation' }> => c.kind === 'operation' && c.level !== 'system' && appliesTo(c, type))
      .map((c) => ({ name: c.name, definition: c.definition }));
    const entry: CapabilityStatementRestResource = {
      type: type as CapabilityStatementRestResource['type'],
      interaction,
      versioning: 'versioned',
      readHistory: true,
      ...(readOnly ? {} : { updateCreate: true, conditionalCreate: true, conditionalUpdate: true }),
      conditionalDelete: 'not-supported',
    };
    if (profiles.has(type)) {
      entry.supportedProfile = (profiles.get(type) ?? []).sort();
    }
    if (interaction.some((i) => i.code === 'search-type')) {
      entry.searchParam = [
        ...COMMON_SEARCH,
        ...[...paramsOf(type).values()].map((p) => ({
          name: p.code,
          type: p.type,
          definition: p.definition.url,
        })),
      ];
      const includes = [...paramsOf(type).values()].filter((p) => p.type === 'reference').map((p) => `${type}:${p.code}`);
      // An empty array is not valid FHIR JSON: a type without reference parameters has no searchInclude.
      if (includes.length > 0) {
        entry.searchInclude = includes;
      }
      entry.searchRevInclude = ['*'];
    }
    if (operation.length > 0) {
      entry.operation = operation;
    }
    return entry;
  });
  const systemInteraction: CapabilityStatementRestInteraction[] = caps
    .filter((c): c is Extract<RouteCapability, { kind: 'system' }> => c.kind === 'system')
    .map((c) => ({ code: c.interaction }));
  const systemOperation = caps
    .filter((c): c is Extract<RouteCapability, { kind: 'operation' }> => c.kind === 'operation' && c.level === 'system')
    .map((c) => ({ name: c.name, definition: c.definition }));
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-11-22',
    kind: 'instance',
    software: { name: 'PeerBridge', version: '0.1.0' },
    implementation: { description: 'PeerBridge FHIR R4 adapter for peer support services', url },
    fhirVersion: '4.0.1',
    format: [FHIR_JSON, 'json'],
    implementationGuide: ['http://peerbridge.org/fhir/ImplementationGuide/org.peerbridge.fhir', ...validator.defs.implementationGuides()],
    rest: [
      {
        mode: 'server',
        documentation:
          'FHIR R4 REST API over a versioned PostgreSQL store; every create and update is validated against base R4 and the profiles in meta.profile.',
        resource,
        interaction: systemInteraction,
        operation: systemOperation,
        ...(options.security ? { security: options.security } : {}),
      },
    ],
  };
}
