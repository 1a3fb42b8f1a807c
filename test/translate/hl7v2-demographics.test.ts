/**
 * HL7 v2 PID demographics into Patient with the shipped hl7v2 mapping (issue 13 item 5): every
 * PID-3 identifier with its assigning authority and type, addresses (PID-11), phones and email
 * (PID-13, home; PID-14, business: use work), race (PID-10) and ethnicity (PID-22) as the US Core extensions, language (PID-15)
 * and marital status (PID-16); the Patient reads back to the same person (from-fhir); an 8859/1
 * message's accented name and a message behind a byte-order mark come through.
 */
import type { Patient, Resource } from '@medplum/fhirtypes';
import { join } from 'node:path';
import { loadRules } from '../../src/domain/rules';
import { Person } from '../../src/domain/model';
import { loadPackageTerms } from '../../src/fhir/context';
import { fromFhir } from '../../src/fhir/from-fhir';
import type { PipelineDeps } from '../../src/pipeline/canonical';
import { translateSource, type RejectRecord } from '../../src/pipeline/translate-source';
import { loadSource } from '../../src/translate';
import { Validator } from '../../src/validation';

const MAPPINGS = join(__dirname, '..', '..', 'mappings');
const NOW = new Date('2026-11-22T12:00:00Z');

const MSH = (id: string, charset = 'UNICODE UTF-8') =>
  `MSH|^~\\&|RBEHR|RBCBH|PEERBRIDGE|RBHIE|20261102080512-0600||ADT^A04^ADT_A01|${id}|P|2.5.1|||AL|NE|USA|${charset}`;
const PID = [
  'PID|1||300299^^^RB^MR~123-45-6789^^^SSA^SS~X77^^^&2.16.840.1.113883.19.5&ISO^PI||DOE^JANE^Q^^^^L||19800101|F',
  '||2028-9^Asian^HL70005~2106-3^White^HL70005',
  '|1 Main St^Apt 2^Riverbend^IL^62701^USA^H~PO Box 9^^Riverbend^IL^62702^USA^M',
  '||^PRN^PH^^1^217^5550100~^WPN^CP^^1^217^5550101~^NET^Internet^jane@example.org',
  '|^WPN^PH^^1^217^5550199~^^FX^^1^217^5550198|SPA|M||||||H^Hispanic or Latino^HL70189',
].join('');
const ADT = [MSH('DEMO1'), 'EVN|A04|20261102080512-0600', PID, 'PV1|1|O|PEER^^^RB-CCBHC'].join('\r') + '\r';

let deps: PipelineDeps;
beforeAll(() => {
  deps = { validator: Validator.create(), rules: loadRules(), terms: loadPackageTerms(), now: () => NOW };
});

async function translate(chunks: (Buffer | string)[]): Promise<{ patients: Patient[]; rejects: RejectRecord[] }> {
  const source = loadSource(join(MAPPINGS, 'hl7v2'));
  const resources: Resource[] = [];
  const rejects: RejectRecord[] = [];
  await translateSource(source, [{ name: 'adt.hl7', chunks }], deps, (list) => void resources.push(...list), { onReject: (r) => void rejects.push(r) });
  return { patients: resources.filter((r): r is Patient => r.resourceType === 'Patient'), rejects };
}

describe('HL7 v2 PID demographics', () => {
  it('race and ethnicity asked but not answered (ASKU) and unknown (UNK) make a valid Patient (NullFlavor codings without a display)', async () => {
    const pid = PID.replace('2028-9^Asian^HL70005~2106-3^White^HL70005', 'ASKU^Asked but no answer^NULLFL').replace(
      'H^Hispanic or Latino^HL70189',
      'UNK^Unknown^HL70189',
    );
    const adt = [MSH('DEMO-ASKU'), 'EVN|A04|20261102080512-0600', pid, 'PV1|1|O|PEER^^^RB-CCBHC'].join('\r') + '\r';
    const { patients, rejects } = await translate([Buffer.from(adt)]);
    expect(rejects).toEqual([]);
    const race = patients[0].extension?.find((e) => e.url === 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race');
    expect(race?.extension?.[0]).toEqual({ url: 'ombCategory', valueCoding: { system: 'http://terminology.hl7.org/CodeSystem/v3-NullFlavor', code: 'ASKU' } });
    expect(deps.validator.validate(patients[0]).issues.filter((i) => i.severity === 'error')).toEqual([]);
  });

  it('puts identifiers, addresses, telecom, race, ethnicity, language and marital status into the Patient', async () => {
    const { patients, rejects } = await translate([Buffer.from(ADT)]);
    expect(rejects).toEqual([]);
    const [p] = patients;
    expect(p.identifier?.slice(1)).toEqual([
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] },
        system: 'https://ehr.riverbend.example.org/peer/assigning-authority/RB',
        value: '300299',
        assigner: { display: 'RB' },
      },
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'SS' }] },
        system: 'https://ehr.riverbend.example.org/peer/assigning-authority/SSA',
        value: '123-45-6789',
        assigner: { display: 'SSA' },
      },
      { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'PI' }] }, system: 'urn:oid:2.16.840.1.113883.19.5', value: 'X77' },
    ]);
    expect(p.address).toEqual([
      { use: 'home', line: ['1 Main St', 'Apt 2'], city: 'Riverbend', state: 'IL', postalCode: '62701', country: 'USA' },
      { use: 'home', line: ['PO Box 9'], city: 'Riverbend', state: 'IL', postalCode: '62702', country: 'USA' },
    ]);
    expect(p.telecom).toEqual([
      { system: 'phone', value: '(217) 555-0100', use: 'home', rank: 1 },
      { system: 'phone', value: '(217) 555-0101', use: 'work', rank: 2 },
      { system: 'email', value: 'jane@example.org', use: 'home', rank: 3 },
      // PID-14, business phones: after the home ones, use work whatever XTN.2 says.
      { system: 'phone', value: '(217) 555-0199', use: 'work', rank: 4 },
      { system: 'fax', value: '(217) 555-0198', use: 'work', rank: 5 },
    ]);
    const race = p.extension?.find((e) => e.url === 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race');
    expect(race?.extension).toEqual([
      { url: 'ombCategory', valueCoding: { system: 'urn:oid:2.16.840.1.113883.6.238', code: '2028-9', display: 'Asian' } },
      { url: 'ombCategory', valueCoding: { system: 'urn:oid:2.16.840.1.113883.6.238', code: '2106-3', display: 'White' } },
      { url: 'text', valueString: 'Asian, White' },
    ]);
    const ethnicity = p.extension?.find((e) => e.url === 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity');
    expect(ethnicity?.extension).toEqual([
      { url: 'ombCategory', valueCoding: { system: 'urn:oid:2.16.840.1.113883.6.238', code: '2135-2', display: 'Hispanic or Latino' } },
      { url: 'text', valueString: 'Hispanic or Latino' },
    ]);
    expect(p.communication).toEqual([{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'spa' }] }, preferred: true }]);
    expect(p.maritalStatus).toEqual({ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code: 'M' }] });

    // and back: from-fhir gives the same person, which the canonical model accepts
    const [person] = fromFhir([p]).people;
    expect(Person.parse(person)).toEqual(person);
    expect(person).toMatchObject({
      id: '300299',
      identifiers: [
        { system: 'https://ehr.riverbend.example.org/peer/assigning-authority/RB', value: '300299', type: 'MR', assigner: 'RB' },
        { system: 'https://ehr.riverbend.example.org/peer/assigning-authority/SSA', value: '123-45-6789', type: 'SS', assigner: 'SSA' },
        { system: 'urn:oid:2.16.840.1.113883.19.5', value: 'X77', type: 'PI' },
      ],
      addresses: [
        { use: 'home', lines: ['1 Main St', 'Apt 2'], city: 'Riverbend', state: 'IL', postalCode: '62701', country: 'USA' },
        { use: 'home', lines: ['PO Box 9'], city: 'Riverbend', state: 'IL', postalCode: '62702', country: 'USA' },
      ],
      telecom: [
        { system: 'phone', value: '(217) 555-0100', use: 'home' },
        { system: 'phone', value: '(217) 555-0101', use: 'work' },
        { system: 'email', value: 'jane@example.org', use: 'home' },
        { system: 'phone', value: '(217) 555-0199', use: 'work' },
        { system: 'fax', value: '(217) 555-0198', use: 'work' },
      ],
      race: ['2028-9', '2106-3'],
      ethnicity: '2135-2',
      language: 'spa',
      maritalStatus: 'M',
    });
  });

  it('reads an 8859/1 message with an accented name, and a message behind a UTF-8 byte-order mark', async () => {
    const latin1 = Buffer.from(ADT.replace(MSH('DEMO1'), MSH('DEMO2', '8859/1')).replace('DOE^JANE', 'PE\xd1A^JOS\xc9'), 'latin1');
    const { patients, rejects } = await translate([latin1]);
    expect(rejects).toEqual([]);
    expect(patients[0].name?.[0]).toMatchObject({ family: 'PEÑA', given: ['JOSÉ', 'Q'] });
    const bom = await translate([Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(ADT)])]);
    expect(bom.rejects).toEqual([]);
    expect(bom.patients).toHaveLength(1);
  });

  it('rejects a message whose MSH-18 names a character set it cannot read, saying which', async () => {
    const { patients, rejects } = await translate([Buffer.from(ADT.replace(MSH('DEMO1'), MSH('DEMO3', 'KLINGON')))]);
    expect(patients).toEqual([]);
    expect(rejects).toHaveLength(1);
    expect(rejects[0].errors).toEqual([
      expect.objectContaining({
        stage: 'parse',
        reason: expect.stringMatching(/^MSH-18 \(character set\) is "KLINGON": not a character set of HL7 table 0211/),
      }),
    ]);
  });

  it('a business phone alone (PID-14, no PID-13) is a work phone', async () => {
    const pid = PID.replace(
      '||^PRN^PH^^1^217^5550100~^WPN^CP^^1^217^5550101~^NET^Internet^jane@example.org|^WPN^PH^^1^217^5550199~^^FX^^1^217^5550198|',
      '|||217-555-0142|',
    );
    expect(pid).not.toBe(PID);
    const { patients, rejects } = await translate([Buffer.from(ADT.replace(PID, pid))]);
    expect(rejects).toEqual([]);
    expect(patients[0].telecom).toEqual([{ system: 'phone', value: '217-555-0142', use: 'work', rank: 1 }]);
  });

  it('a PID without these fields makes a Patient without them', async () => {
    const bare = ADT.replace(PID, 'PID|1||300300^^^RB^MR||ROE^RICK||19700101|M');
    const { patients, rejects } = await translate([Buffer.from(bare)]);
    expect(rejects).toEqual([]);
    expect(patients[0]).not.toHaveProperty('address');
    expect(patients[0]).not.toHaveProperty('telecom');
    expect(patients[0]).not.toHaveProperty('extension');
    expect(patients[0]).not.toHaveProperty('communication');
  });
});
