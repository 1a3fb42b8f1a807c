// Extensions. Each is simple (one value[x]) and carries PeerBridge metadata.

// --- on Encounter (one peer support contact) ----------------------------------------------

Extension: PeerInterventionExtension
Id: peer-intervention
Title: "Peer Support Intervention"
Description: "A peer support intervention delivered during the contact (seed 003 I)."
Context: Encounter
* insert PBMetadata
* value[x] 1..1
* value[x] only CodeableConcept
* valueCodeableConcept from PeerInterventionVS (required)

Extension: SocialSupportTypeExtension
Id: social-support-type
Title: "Peer Social Support Type"
Description: "A type of social support provided during the contact: emotional, informational, instrumental or affiliational (seed 001)."
Context: Encounter
* insert PBMetadata
* value[x] 1..1
* value[x] only CodeableConcept
* valueCodeableConcept from SocialSupportTypeVS (required)

Extension: IcrcTaskExtension
Id: icrc-task
Title: "IC&RC Peer Recovery Task"
Description: "An IC&RC peer recovery task that the contact addressed (seed 002)."
Context: Encounter
* insert PBMetadata
* value[x] 1..1
* value[x] only CodeableConcept
* valueCodeableConcept from IcrcTaskVS (required)

Extension: PlaceOfServiceExtension
Id: place-of-service
Title: "Place of Service"
Description: "CMS place of service of the contact, as reported on a claim."
Context: Encounter
* insert PBMetadata
* value[x] 1..1
* value[x] only CodeableConcept
* valueCodeableConcept from PlaceOfService (required)

Extension: GroupContactExtension
Id: group-contact
Title: "Group Contact"
Description: "True when the contact was a group session (billed with HCPCS modifier HQ)."
Context: Encounter
* insert PBMetadata
* value[x] 1..1
* value[x] only boolean

Extension: NoShowExtension
Id: no-show
Title: "No-show"
Description: "True when the person did not attend a planned contact. Encounter.status is then cancelled: R4 Encounter has no no-show status."
Context: Encounter
* insert PBMetadata
* value[x] 1..1
* value[x] only boolean

Extension: ContactNoteExtension
Id: contact-note
Title: "Contact Note"
Description: "The peer support specialist's note on the contact (R4 Encounter has no note element). Non-clinical: peer support does not assess or diagnose."
Context: Encounter
* insert PBMetadata
* value[x] 1..1
* value[x] only string

// --- on CarePlan (recovery plan) -------------------------------------------------------------

Extension: CrisisPlanPresentExtension
Id: crisis-plan-present
Title: "Crisis Plan Present"
Description: "Whether the person has a WRAP or personal crisis plan (pre-crisis support)."
Context: CarePlan
* insert PBMetadata
* value[x] 1..1
* value[x] only boolean

Extension: NextReviewDateExtension
Id: next-review-date
Title: "Next Review Date"
Description: "When the recovery plan is next to be reviewed (reviews follow the service plan reviews, seed 003 VIII)."
Context: CarePlan
* insert PBMetadata
* value[x] 1..1
* value[x] only date

// --- on Practitioner / PractitionerRole (the workforce) ----------------------------------

Extension: TrainingCompletionExtension
Id: training-completion
Title: "Peer Specialist Training Completion"
Description: "Date the peer specialist completed a recognized peer specialist training program (documentation of completion is required, seed 003 II)."
Context: Practitioner
* insert PBMetadata
* value[x] 1..1
* value[x] only date

Extension: SupervisorExtension
Id: supervisor
Title: "Supervisor"
Description: "The role of the qualified / licensed mental health professional who supervises this peer specialist role."
Context: PractitionerRole
* insert PBMetadata
* value[x] 1..1
* value[x] only Reference(PractitionerRole)
