// One peer support contact (docs/domain.md#a-contact) and the billing units it yields (docs/domain.md#billing-units-hcpcs-h0038).

// HCPCS has two spellings of its system URI: THO 7.0.1's http:// (what PeerBridge writes where no US Core
// profile binds HCPCS) and US Core 6.1.0's https://. The H0038 slices match the code under either.
Invariant: pb-hcpcs-1
Description: "H0038 is a HCPCS code: its system is http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets or https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets."
Expression: "coding.where(code = 'H0038').all(system = 'http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets' or system = 'https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets')"
Severity: #error

Invariant: pb-hcpcs-2
Description: "H0038 is a HCPCS code: its system is http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets or https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets."
Expression: "code = 'H0038' implies (system = 'http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets' or system = 'https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets')"
Severity: #error

Invariant: pb-enc-1
Description: "A finished peer support encounter has an end time."
Expression: "status = 'finished' implies period.end.exists()"
Severity: #error

Profile: PeerSupportEncounter
Parent: $us-core-encounter
Id: peer-support-encounter
Title: "Peer Support Encounter"
Description: "One peer support contact (service event) delivered by a peer support specialist: HCPCS H0038, the contact mode, the episode it belongs to, who delivered it, when and for how long, and what it addressed. Peer support is non-clinical: the encounter carries no diagnosis."
* insert PBMetadata
* obeys pb-enc-1
* extension contains
    PeerInterventionExtension named intervention 0..* MS and
    SocialSupportTypeExtension named supportType 0..* MS and
    IcrcTaskExtension named icrcTask 0..* and
    PlaceOfServiceExtension named placeOfService 0..1 MS and
    GroupContactExtension named groupContact 0..1 MS and
    NoShowExtension named noShow 0..1 MS and
    ContactNoteExtension named note 0..1 MS
* status MS
* class 1..1 MS
* class from PeerEncounterClass (required)
* type 1..* MS
* insert SliceByPattern(type)
* type ^slicing.description = "Slice h0038 carries the HCPCS service code; slice mode the contact mode (in person, telephone, video)."
* type contains
    h0038 1..1 MS and
    mode 0..1 MS
* type[h0038] = #H0038
* type[h0038] obeys pb-hcpcs-1
* type[h0038] ^short = "HCPCS H0038 \"Self-help/peer services, per 15 minutes\" (system http:// or https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets)"
* type[mode] from PeerContactMode (required)
* type[mode] ^short = "How the contact was made (SNOMED CT)"
* subject 1..1 MS
* subject only Reference(PeerBridgePatient)
* episodeOfCare 1..* MS
* episodeOfCare only Reference(EpisodeOfCare)
* participant 1..* MS
* participant.individual 1..1 MS
* period 1..1 MS
* length 0..1 MS
* length ^short = "Contact length in minutes (UCUM min)"
* length.value 1..1
* length.system 1..1
* length.system = $UCUM
* length.code 1..1
* length.code = #min
* diagnosis 0..0
* diagnosis ^short = "Not used: peer support does not assess, diagnose or treat"
* location MS
* location ^short = "Where the contact took place, when known (a contained Location of the place of service)"
* reasonCode MS
* reasonCode ^short = "Why the person receives peer support (the referral's reasons), when known"


Invariant: pb-chg-1
Description: "A peer support charge has between 1 and 96 units (15-minute units in one day)."
Expression: "quantity.value >= 1 and quantity.value <= 96"
Severity: #error

Profile: PeerSupportCharge
Parent: ChargeItem
Id: peer-support-charge
Title: "Peer Support Charge"
Description: "Billing units of one peer support contact: HCPCS H0038 (per 15 minutes), quantity = units, context = the Encounter."
* insert PBMetadata
* obeys pb-chg-1
* status MS
* code 1..1 MS
* code.coding 1..* MS
* insert SliceByPattern(code.coding)
* code.coding contains h0038 1..1 MS
* code.coding[h0038] = #H0038
* code.coding[h0038] obeys pb-hcpcs-2
* code.coding[h0038] ^short = "HCPCS H0038 \"Self-help/peer services, per 15 minutes\" (system http:// or https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets)"
* subject 1..1 MS
* subject only Reference(Patient)
* context 1..1 MS
* context only Reference(Encounter)
* occurrence[x] MS
* occurrence[x] only dateTime or Period
* quantity 1..1 MS
* quantity.value 1..1
* quantity ^short = "Units (15 minutes each)"
