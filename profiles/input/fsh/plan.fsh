// The person-centered recovery plan and its goals (docs/domain.md#plans-and-goals).

Profile: RecoveryPlan
Parent: $us-core-careplan
Id: recovery-plan
Title: "Recovery Plan"
Description: "A person-centered recovery / service plan made with a peer support specialist, with the person's own goals, whether a WRAP or personal crisis plan exists, and when the plan is next reviewed. US Core CarePlan: category assess-plan and a generated narrative of the plan's content."
* insert PBMetadata
* extension contains
    CrisisPlanPresentExtension named crisisPlanPresent 0..1 MS and
    NextReviewDateExtension named nextReviewDate 0..1 MS
* status MS
* intent MS
* text 1..1 MS
* text.status = #generated
* category 1..* MS
* category contains peerRecoveryPlan 1..1 MS
* category[peerRecoveryPlan] = PeerBridgeCodes#peer-recovery-plan
* category[peerRecoveryPlan] ^short = "peerbridge-codes#peer-recovery-plan"
* subject 1..1 MS
* subject only Reference(PeerBridgePatient)
* period MS
* author MS
* goal MS
* goal only Reference(RecoveryGoal)
* activity.detail.code 0..1


Profile: RecoveryGoal
Parent: $us-core-goal
Id: recovery-goal
Title: "Recovery Goal"
Description: "A goal of the person, in their own words (for example an area of recovery capital to increase)."
* insert PBMetadata
* lifecycleStatus MS
* description MS
* description.text 1..1 MS
* subject 1..1 MS
* subject only Reference(PeerBridgePatient)
* target MS
* target.due[x] MS
* expressedBy 0..1 MS
