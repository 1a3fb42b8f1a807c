/**
 * The CapabilityStatement (https://hl7.org/fhir/R4/capabilitystatement.html): says exactly what
 * this server does today, and which profiles it validates against.
 */
import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import type { Validator } from '../validation';

const VALIDATE_OPERATION = 'http://hl7.org/fhir/OperationDefinition/Resource-validate';

export function capabilityStatement(validator: Validator, url: string): CapabilityStatement {
  const byType = new Map<string, string[]>();
  for (const r of validator.defs.packageResourceList) {
    if (r.resourceType === 'StructureDefinition' && r.kind === 'resource' && r.derivation === 'constraint' && r.url && r.type) {
      byType.set(r.type, [...(byType.get(r.type) ?? []), r.url]);
    }
  }
  const resources: CapabilityStatementRestResource[] = [...byType.keys()].sort().map((type) => ({
    type: type as CapabilityStatementRestResource['type'],
    supportedProfile: (byType.get(type) ?? []).sort(),
    operation: [{ name: 'validate', definition: VALIDATE_OPERATION }],
  }));
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-11-22',
    kind: 'instance',
    software: { name: 'PeerBridge', version: '0.1.0' },
    implementation: { description: 'PeerBridge FHIR R4 adapter for peer support services', url },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    implementationGuide: ['http://peerbridge.org/fhir/ImplementationGuide/org.peerbridge.fhir'],
    rest: [
      {
        mode: 'server',
        documentation: 'Validation against base FHIR R4 and the PeerBridge profiles. Storage and search come in later releases.',
        resource: resources,
        operation: [{ name: 'validate', definition: VALIDATE_OPERATION }],
      },
    ],
  };
}
