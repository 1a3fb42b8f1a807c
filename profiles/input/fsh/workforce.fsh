// Who delivers peer support (docs/domain.md#who-delivers-peer-support).

Profile: PeerSpecialist
Parent: Practitioner
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
Parent: PractitionerRole
Id: peer-specialist-role
Title: "Peer Specialist Role"
Description: "A peer specialist's role at an organization (NUCC 175T00000X Peer Specialist), with the supervising professional's role."
* insert PBMetadata
* extension contains SupervisorExtension named supervisor 0..1 MS
* practitioner 1..1 MS
* organization 1..1 MS
* code 1..* MS
* insert SliceByPattern(code)
* code contains peerSpecialist 1..1 MS
* code[peerSpecialist] = $NUCC#175T00000X
* code[peerSpecialist] ^short = "NUCC 175T00000X \"Peer Specialist\""
