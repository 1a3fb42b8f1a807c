/**
 * Bundle rules written from https://hl7.org/fhir/R4/bundle.html: absolute fullUrls, one self link,
 * references resolved inside document/message Bundles, versioned references matching the entry,
 * urn:uuid references that name no entry.
 */
import { errorsOf, lines } from './support';

const PATIENT = 'urn:uuid:6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const OBS = 'urn:uuid:0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

function transaction(subject: string): Record<string, unknown> {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: PATIENT, resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } },
      {
        fullUrl: OBS,
        resource: { resourceType: 'Observation', status: 'final', code: { text: 'mood' }, subject: { reference: subject } },
        request: { method: 'POST', url: 'Observation' },
      },
    ],
  };
}

function documentBundle(references: Record<string, unknown>, patientMeta?: Record<string, unknown>): Record<string, unknown> {
  return {
    resourceType: 'Bundle',
    type: 'document',
    identifier: { system: 'urn:ietf:rfc:3986', value: 'urn:uuid:1a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d' },
    timestamp: '2026-03-02T10:00:00Z',
    entry: [
      {
        fullUrl: 'https://fhir.peerbridge.org/r4/Composition/c1',
        resource: {
          resourceType: 'Composition',
          id: 'c1',
          status: 'final',
          type: { text: 'Peer support note' },
          date: '2026-03-02T10:00:00Z',
          title: 'Note',
          author: [{ display: 'A peer specialist' }],
          ...references,
        },
      },
      { fullUrl: 'https://fhir.peerbridge.org/r4/Patient/p1', resource: { resourceType: 'Patient', id: 'p1', ...(patientMeta ? { meta: patientMeta } : {}) } },
    ],
  };
}

describe('fullUrl and self link', () => {
  test('a relative fullUrl is an error; absolute URLs, urn:uuid and urn:oid are fine', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        { fullUrl: 'Patient/1', resource: { resourceType: 'Patient', id: '1' } },
        { fullUrl: 'https://fhir.peerbridge.org/r4/Patient/2', resource: { resourceType: 'Patient', id: '2' } },
        { fullUrl: 'urn:oid:1.2.3.4', resource: { resourceType: 'Patient' } },
      ],
    };
    expect(lines(errorsOf(bundle))).toEqual([
      "error Bundle.entry[0].fullUrl: fullUrl 'Patient/1' must be an absolute URL, a urn:uuid: or a urn:oid: (a relative URL identifies nothing)",
    ]);
  });

  test('two self links are an error at the second', () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      link: [
        { relation: 'self', url: 'https://fhir.peerbridge.org/r4/Patient?name=a' },
        { relation: 'next', url: 'https://fhir.peerbridge.org/r4/Patient?name=a&page=2' },
        { relation: 'self', url: 'https://fhir.peerbridge.org/r4/Patient?name=b' },
      ],
    };
    expect(lines(errorsOf(bundle))).toEqual(["error Bundle.link[2]: A Bundle has at most one link with relation 'self'; found 2"]);
  });
});

describe('urn:uuid references resolve to an entry', () => {
  test('a transaction whose urn:uuid names no entry is an error', () => {
    expect(errorsOf(transaction(PATIENT))).toEqual([]);
    const missing = 'urn:uuid:99999999-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
    expect(lines(errorsOf(transaction(missing)))).toEqual([
      `error Bundle.entry[1].resource.subject.reference: URN reference '${missing}' is not the fullUrl of any entry in this Bundle`,
    ]);
  });
});

describe('references inside a document Bundle', () => {
  test('references to entries resolve, relative or absolute', () => {
    expect(errorsOf(documentBundle({ subject: { reference: 'Patient/p1' } }))).toEqual([]);
    expect(errorsOf(documentBundle({ subject: { reference: 'https://fhir.peerbridge.org/r4/Patient/p1' } }))).toEqual([]);
  });

  test('a reference to a resource the document does not carry is an error', () => {
    expect(lines(errorsOf(documentBundle({ subject: { reference: 'Patient/p2' } })))).toEqual([
      "error Bundle.entry[0].resource.subject.reference: Can't find 'Patient/p2' in the bundle: a document Bundle carries every resource it refers to",
    ]);
  });

  test('a versioned reference must match the entry version', () => {
    expect(errorsOf(documentBundle({ subject: { reference: 'Patient/p1/_history/2' } }, { versionId: '2' }))).toEqual([]);
    expect(lines(errorsOf(documentBundle({ subject: { reference: 'Patient/p1/_history/1' } }, { versionId: '2' })))).toEqual([
      "error Bundle.entry[0].resource.subject.reference: Versioned reference 'Patient/p1/_history/1' does not match the version of Patient/p1 in this Bundle (2)",
    ]);
    expect(lines(errorsOf(documentBundle({ subject: { reference: 'Patient/p1/_history/1' } })))).toEqual([
      expect.stringMatching(/^error Bundle.entry\[0\].resource.subject.reference: Versioned reference 'Patient\/p1\/_history\/1': the entry for Patient\/p1 in this Bundle has no meta.versionId/),
    ]);
  });

  test('in a collection, references outside the Bundle are not judged', () => {
    const bundle = documentBundle({ subject: { reference: 'Patient/p2' } });
    bundle.type = 'collection';
    delete bundle.identifier;
    expect(errorsOf(bundle)).toEqual([]);
  });
});

describe('references inside a Parameters carried by a message', () => {
  function message(subject: string): Record<string, unknown> {
    return {
      resourceType: 'Bundle',
      type: 'message',
      timestamp: '2026-03-02T10:00:00Z',
      entry: [
        {
          fullUrl: 'urn:uuid:2a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
          resource: { resourceType: 'MessageHeader', eventUri: 'https://fhir.peerbridge.org/event/submit', source: { endpoint: 'https://peerbridge.org/ep' }, focus: [{ reference: 'urn:uuid:3a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d' }] },
        },
        {
          fullUrl: 'urn:uuid:3a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
          resource: {
            resourceType: 'Parameters',
            parameter: [
              { name: 'patient', resource: { resourceType: 'Patient', id: 'p1' } },
              { name: 'note', resource: { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'mood' }, subject: { reference: subject } } },
            ],
          },
        },
      ],
    };
  }

  test('a reference to a resource the Parameters carries resolves', () => {
    expect(errorsOf(message('Patient/p1'))).toEqual([]);
  });

  test('one that points into the message but to nothing there is an error', () => {
    expect(lines(errorsOf(message('Patient/p9')))).toEqual([
      "error Bundle.entry[1].resource.parameter[1].resource.subject.reference: Can't find 'Patient/p9' in the bundle: a message Bundle carries every resource it refers to",
    ]);
  });
});
