// QuestionnaireResponses to the three PeerBridge Questionnaires, and the Observations derived
// from them (docs/domain.md: eligibility criteria, recovery capital, supervision).

// --- QuestionnaireResponses ------------------------------------------------------------------
// `questionnaire` names the instrument, versioned (`url|version`, what PeerBridge writes) or not.

Invariant: pb-questionnaire-irc
Description: "The response answers the Idaho Recovery Capital Scale (its canonical URL, with or without |version)."
Expression: "$this = 'http://peerbridge.org/fhir/Questionnaire/idaho-recovery-capital-scale' or $this.startsWith('http://peerbridge.org/fhir/Questionnaire/idaho-recovery-capital-scale|')"
Severity: #error

Invariant: pb-questionnaire-eligibility
Description: "The response answers the peer support eligibility review (its canonical URL, with or without |version)."
Expression: "$this = 'http://peerbridge.org/fhir/Questionnaire/peer-support-eligibility-review' or $this.startsWith('http://peerbridge.org/fhir/Questionnaire/peer-support-eligibility-review|')"
Severity: #error

Invariant: pb-questionnaire-supervisor
Description: "The response answers the Supervisor of Peer Workers Self-Assessment (its canonical URL, with or without |version)."
Expression: "$this = 'http://peerbridge.org/fhir/Questionnaire/supervisor-peer-workers-self-assessment' or $this.startsWith('http://peerbridge.org/fhir/Questionnaire/supervisor-peer-workers-self-assessment|')"
Severity: #error

Profile: RecoveryCapitalResponse
Parent: $us-core-questionnaireresponse
Id: recovery-capital-response
Title: "Recovery Capital Response"
Description: "One administration of the Idaho Recovery Capital Scale to a person (a self-report, not a clinical assessment)."
* insert PBMetadata
* questionnaire 1..1 MS
* questionnaire obeys pb-questionnaire-irc
* status MS
* subject 1..1 MS
* subject only Reference(PeerBridgePatient)
* authored 1..1 MS
* item MS

Profile: EligibilityReviewResponse
Parent: $us-core-questionnaireresponse
Id: eligibility-review-response
Title: "Eligibility Review Response"
Description: "One admission, continued-stay or discharge review of a person against the peer support criteria."
* insert PBMetadata
* questionnaire 1..1 MS
* questionnaire obeys pb-questionnaire-eligibility
* status MS
* subject 1..1 MS
* subject only Reference(PeerBridgePatient)
* authored 1..1 MS
* author 0..1 MS
* item MS

Profile: SupervisorSelfAssessmentResponse
Parent: QuestionnaireResponse
Id: supervisor-self-assessment-response
Title: "Supervisor Self-Assessment Response"
Description: "One Supervisor of Peer Workers Self-Assessment, about the supervisor who answers it. Not a patient record: its subject is the supervisor, so it stays on R4 QuestionnaireResponse (US Core's requires a Patient subject)."
* insert PBMetadata
* questionnaire 1..1 MS
* questionnaire obeys pb-questionnaire-supervisor
* status MS
* subject 1..1 MS
* subject only Reference(Practitioner or PractitionerRole)
* authored 1..1 MS
* item MS

// --- Observations ----------------------------------------------------------------------------

// US Core screening-assessment Observations slice category by pattern: survey (1..1, inherited)
// and screening-assessment (0..*, us-core-category: sdoh, functional-status, disability-status,
// cognitive-status). The recovery capital total is an SDOH assessment (housing, finances, work,
// transport, social support); the eligibility determination is none of the four, so survey only.
RuleSet: SurveyCategory
* category 1..* MS
* category[survey] MS

Invariant: pb-rct-1
Description: "An Idaho Recovery Capital Scale total is between 23 and 115."
Expression: "value.exists() implies (value >= 23 and value <= 115)"
Severity: #error

Profile: RecoveryCapitalTotal
Parent: $us-core-observation-screening-assessment
Id: recovery-capital-total
Title: "Recovery Capital Total"
Description: "The Idaho Recovery Capital Scale total score (sum of the 23 ratings, 23-115), derived from one Recovery Capital Response."
* insert PBMetadata
* obeys pb-rct-1
* status MS
* insert SurveyCategory
* category[screening-assessment] 1..1
* category[screening-assessment] = $us-core-category#sdoh
* code MS
* code = PeerBridgeCodes#recovery-capital-total
* code ^short = "peerbridge-codes#recovery-capital-total \"Idaho Recovery Capital Scale total score\""
* subject 1..1 MS
* subject only Reference(PeerBridgePatient)
* effective[x] 1..1 MS
* effective[x] only dateTime
* value[x] 1..1 MS
* value[x] only integer
* derivedFrom 1..1 MS
* derivedFrom only Reference($us-core-questionnaireresponse)
* derivedFrom ^short = "The Recovery Capital Response the total was computed from"

Profile: EligibilityDetermination
Parent: $us-core-observation-screening-assessment
Id: eligibility-determination
Title: "Eligibility Determination"
Description: "The outcome of one peer support eligibility review (admission, continued stay or discharge) and the criteria that decided it, derived from one Eligibility Review Response."
* insert PBMetadata
* status MS
* insert SurveyCategory
* code MS
* code = PeerBridgeCodes#eligibility-determination
* subject 1..1 MS
* subject only Reference(PeerBridgePatient)
* effective[x] 1..1 MS
* effective[x] only dateTime
* value[x] 1..1 MS
* value[x] only CodeableConcept
* value[x] from EligibilityResultVS (required)
* component MS
* component ^slicing.discriminator.type = #pattern
* component ^slicing.discriminator.path = "code"
* component ^slicing.rules = #open
* component ^slicing.description = "Slices by component code: the review type, and one component per criterion that decided the result (code: the criterion; value: met / not met / unknown)."
* component contains
    reviewType 1..1 MS and
    criterion 0..* MS
* component[reviewType].code = PeerBridgeCodes#review-type
* component[reviewType].value[x] 1..1
* component[reviewType].value[x] only CodeableConcept
* component[reviewType].value[x] from EligibilityReviewTypeVS (required)
* component[criterion].code from EligibilityCriterionVS (required)
* component[criterion].code ^short = "The criterion (eligibility-criterion)"
* component[criterion].value[x] 1..1
* component[criterion].value[x] only CodeableConcept
* component[criterion].value[x] from CriterionStatusVS (required)
* component[criterion].value[x] ^short = "met | not-met | unknown (criterion-status)"
* derivedFrom 1..1 MS
* derivedFrom only Reference($us-core-questionnaireresponse)
* derivedFrom ^short = "The Eligibility Review Response the determination was made from"
