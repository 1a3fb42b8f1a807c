// Aliases and rule sets shared by every FSH file. Canonical base: http://peerbridge.org/fhir

// External code systems
Alias: $SCT = http://snomed.info/sct
Alias: $HCPCS = http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets
// The same system as US Core 6.1.0's value sets spell it (us-core-procedure-code).
Alias: $HCPCS-USCore = https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets
Alias: $NUCC = http://nucc.org/provider-taxonomy
Alias: $POS = https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set
Alias: $UCUM = http://unitsofmeasure.org
Alias: $v3-ActCode = http://terminology.hl7.org/CodeSystem/v3-ActCode
Alias: $observation-category = http://terminology.hl7.org/CodeSystem/observation-category

// US Core 6.1.0 (hl7.fhir.us.core, a dependency): the profiles ours derive from, and its code systems
Alias: $us-core-patient = http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient
Alias: $us-core-organization = http://hl7.org/fhir/us/core/StructureDefinition/us-core-organization
Alias: $us-core-practitioner = http://hl7.org/fhir/us/core/StructureDefinition/us-core-practitioner
Alias: $us-core-practitionerrole = http://hl7.org/fhir/us/core/StructureDefinition/us-core-practitionerrole
Alias: $us-core-encounter = http://hl7.org/fhir/us/core/StructureDefinition/us-core-encounter
Alias: $us-core-servicerequest = http://hl7.org/fhir/us/core/StructureDefinition/us-core-servicerequest
Alias: $us-core-careplan = http://hl7.org/fhir/us/core/StructureDefinition/us-core-careplan
Alias: $us-core-goal = http://hl7.org/fhir/us/core/StructureDefinition/us-core-goal
Alias: $us-core-questionnaireresponse = http://hl7.org/fhir/us/core/StructureDefinition/us-core-questionnaireresponse
Alias: $us-core-observation-screening-assessment = http://hl7.org/fhir/us/core/StructureDefinition/us-core-observation-screening-assessment
Alias: $us-core-category = http://hl7.org/fhir/us/core/CodeSystem/us-core-category

// Extensions from the R4 core package
Alias: $ordinalValue = http://hl7.org/fhir/StructureDefinition/ordinalValue
Alias: $questionnaire-maxOccurs = http://hl7.org/fhir/StructureDefinition/questionnaire-maxOccurs

// SDC extension (not in R4 core; kept under SDC's own canonical URL, never re-published here)
Alias: $sdc-calculatedExpression = http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression

// Our own canonicals, for places where FSH needs a literal URL
Alias: $pb-questionnaire-irc = http://peerbridge.org/fhir/Questionnaire/idaho-recovery-capital-scale
Alias: $pb-questionnaire-eligibility = http://peerbridge.org/fhir/Questionnaire/peer-support-eligibility-review
Alias: $pb-questionnaire-supervisor = http://peerbridge.org/fhir/Questionnaire/supervisor-peer-workers-self-assessment

// Metadata for every conformance resource defined with FSH keywords (Profile, Extension,
// CodeSystem, ValueSet). The date is pinned so that rebuilds are byte-identical.
RuleSet: PBMetadata
* ^version = "0.1.0"
* ^status = #active
* ^experimental = false
* ^date = "2026-11-01"
* ^publisher = "PeerBridge"

// The same metadata for definitional Instances (Questionnaires); url is set by each instance.
RuleSet: PBInstanceMetadata
* version = "0.1.0"
* status = #active
* experimental = false
* date = "2026-11-01"
* publisher = "PeerBridge"

// A short generated narrative for an Instance (dom-6: resources should have narrative).
RuleSet: Narrative(summary)
* text.status = #generated
* text.div = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>{summary}</p></div>"

// A local code system: complete content, case-sensitive.
RuleSet: PBCodeSystem
* insert PBMetadata
* ^caseSensitive = true
* ^content = #complete

// Slicing of a repeating CodeableConcept/Coding element by pattern on the element itself.
// (Rules on repeating elements are always authored as slices, never as a pattern on the array.)
RuleSet: SliceByPattern(path)
* {path} ^slicing.discriminator.type = #pattern
* {path} ^slicing.discriminator.path = "$this"
* {path} ^slicing.rules = #open
