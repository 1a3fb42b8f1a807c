// Who delivers peer support (docs/domain.md#who-delivers-peer-support).

Profile: PeerSpecialist
Parent: $us-core-practitioner
Id: peer-specialist
Title: "Peer Specialist"
Description: "A peer support specialist: a person with lived experience of recovery (or a family peer) who has completed recognized peer specialist training, with their peer support credential."
* insert PBMetadata
* extension contains TrainingCompletionExtension named trainingCompletion 0..1 MS
* identifier 1..* MS
* name 1..* MS
* qualification 1..* MS
* qualification.code MS
* qualification.code from PeerCredentialVS (required)
* qualification.issuer MS
* qualification.period MS


Profile: PeerSpecialistRole
Parent: $us-core-practitionerrole
Id: peer-specialist-role
Title: "Peer Specialist Role"
Description: "A peer specialist's role at an organization (NUCC 175T00000X Peer Specialist), with the supervising professional's role and the program's phone (US Core pd-1: a role has a telecom or an endpoint)."
* insert PBMetadata
* extension contains SupervisorExtension named supervisor 0..1 MS
* practitioner 1..1 MS
* organization 1..1 MS
* telecom 1..* MS
* telecom ^short = "The program's phone (from the organization)"
* code 1..* MS
* insert SliceByPattern(code)
* code contains peerSpecialist 1..1 MS
* code[peerSpecialist] = $NUCC#175T00000X
* code[peerSpecialist] ^short = "NUCC 175T00000X \"Peer Specialist\""


Profile: PeerBridgePractitioner
Parent: $us-core-practitioner
Id: peerbridge-practitioner
Title: "PeerBridge Practitioner"
Description: "A practitioner other than a peer specialist (a supervisor of peer workers, a referring clinician) as PeerBridge writes them: US Core Practitioner with the source record identifier."
* insert PBMetadata
* identifier 1..* MS
* name 1..* MS


Profile: PeerBridgePractitionerRole
Parent: $us-core-practitionerrole
Id: peerbridge-practitioner-role
Title: "PeerBridge Practitioner Role"
Description: "The role of a practitioner other than a peer specialist (a supervisor of peer workers) at an organization, with the program's phone (US Core pd-1)."
* insert PBMetadata
* practitioner 1..1 MS
* organization 1..1 MS
* telecom 1..* MS
* telecom ^short = "The program's phone (from the organization)"


Profile: PeerBridgeOrganization
Parent: $us-core-organization
Id: peerbridge-organization
Title: "PeerBridge Organization"
Description: "A program or provider organization delivering peer support (a CCBHC, a peer-run organization): US Core Organization with the source record identifier, its NPI when it has one (check digit verified on ingest), and the program's phone."
* insert PBMetadata
* identifier 1..* MS
* type MS
* telecom MS
* telecom ^short = "The program's phone (also written on its practitioners' roles)"
