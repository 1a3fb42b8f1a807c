// The person receiving peer support (docs/domain.md).

Profile: PeerBridgePatient
Parent: $us-core-patient
Id: peerbridge-patient
Title: "PeerBridge Patient"
Description: "A person receiving peer support, as PeerBridge writes them: US Core Patient with the source record identifier, and the demographics the source has (address, phone, preferred language, race, ethnicity)."
* insert PBMetadata
* identifier 1..* MS
* managingOrganization MS
