// An episode of peer support and the referral that starts it (docs/domain.md#an-episode-of-peer-support).

Invariant: pb-eoc-1
Description: "A finished peer support episode has an end date."
Expression: "status = 'finished' implies period.end.exists()"
Severity: #error

Profile: PeerSupportEpisode
Parent: EpisodeOfCare
Id: peer-support-episode
Title: "Peer Support Episode"
Description: "An episode of peer support services for one person, from admission to discharge, managed by one organization."
* insert PBMetadata
* obeys pb-eoc-1
* status MS
* type 1..* MS
* insert SliceByPattern(type)
* type contains peerSupport 1..1 MS
* type[peerSupport] = PeerBridgeCodes#peer-support
* type[peerSupport] ^short = "peerbridge-codes#peer-support"
* patient 1..1 MS
* patient only Reference(Patient)
* managingOrganization 1..1 MS
* referralRequest MS
* referralRequest only Reference(PeerSupportReferral)
* careManager 0..1 MS
* careManager only Reference(Practitioner)
* period 1..1 MS
* period.start 1..1 MS


Profile: PeerSupportReferral
Parent: $us-core-servicerequest
Id: peer-support-referral
Title: "Peer Support Referral"
Description: "A referral of a person to peer support services (SNOMED CT 461481000124109), with the reasons the person may benefit (seed 004 section 4)."
* insert PBMetadata
* status MS
* intent MS
* intent = #order
* code 1..1 MS
* code.coding 1..* MS
* insert SliceByPattern(code.coding)
* code.coding contains peerSupportReferral 1..1 MS
* code.coding[peerSupportReferral] = $SCT#461481000124109
* code.coding[peerSupportReferral] ^short = "SNOMED CT 461481000124109 \"Referral to peer support\""
* category 1..* MS
* category[us-core] 1..*
* category[us-core] = $SCT#410606002
* category[us-core] ^short = "SNOMED CT 410606002 \"Social service procedure\" (US Core ServiceRequest category)"
* subject 1..1 MS
* subject only Reference(PeerBridgePatient)
* occurrence[x] MS
* occurrence[x] ^short = "When the referral asks peer support to start (from the referral date)"
* authoredOn 1..1 MS
* requester MS
* reasonCode MS
* reasonCode from PeerReferralReasonVS (extensible)
* reasonCode ^short = "Why the person may benefit (peer-referral-reason; a second SNOMED CT coding where the concept map has one)"
