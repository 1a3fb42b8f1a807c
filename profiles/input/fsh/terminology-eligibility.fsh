// Terminology of the peer support eligibility review (seed 003 sections IV-VII): the criteria,
// their status on one review, the review type and the determination result.

CodeSystem: EligibilityCriterion
Id: eligibility-criterion
Title: "Peer Support Eligibility Criterion"
Description: "Service (admission), exclusion, continued-stay and discharge criteria of peer support services (seed 003 sections IV-VII). Code = section and letter; display = the criterion text."
* insert PBCodeSystem
* #service-A "Is receiving or has recently received crisis intervention services"
* #service-B "Is experiencing functional problems in his/her home, community, church, school, job or volunteer activity"
* #service-C "Is in recovery from mental illness or co-occurring disorders (mental illness and substance abuse) and is in need of mutual support from a peer in order to maintain recovery."
* #service-D "Is experiencing money management problems"
* #service-E "Needs to develop self advocacy skills in order to decrease dependency on the formal mental health system"
* #service-F "Would benefit from peer modeling in order to take increased responsibility for his/her own recovery"
* #service-G "Needs peer supports in order to maintain self-sufficiency."
* #exclusion-A "The individual is a risk to self or others, or sufficient impairment exists that a more intensive level of service is required."
* #exclusion-B "The individual requires a level of structure and supervision beyond the scope of the program."
* #continued-stay-A "Demonstrates a capacity to progress at his/her level of functioning."
* #continued-stay-B "Client wishes to continue participation with peer support services."
* #continued-stay-C "Additional Peer Support services have not been tried and are appropriate for the client's needs."
* #discharge-A "No longer wishes to receive peer support services"
* #discharge-B "Goals of the client's service plan and program have been substantially met."

ValueSet: EligibilityCriterionVS
Id: eligibility-criterion
Title: "Peer Support Eligibility Criterion"
Description: "All peer support eligibility criteria."
* insert PBMetadata
* include codes from system EligibilityCriterion


CodeSystem: CriterionStatus
Id: criterion-status
Title: "Eligibility Criterion Status"
Description: "Whether one eligibility criterion holds for the person at the time of the review."
* insert PBCodeSystem
* #met "Met" "The criterion holds."
* #not-met "Not met" "The criterion does not hold."
* #unknown "Unknown" "It is not known whether the criterion holds."

ValueSet: CriterionStatusVS
Id: criterion-status
Title: "Eligibility Criterion Status"
Description: "All eligibility criterion statuses."
* insert PBMetadata
* include codes from system CriterionStatus


CodeSystem: EligibilityReviewType
Id: eligibility-review-type
Title: "Peer Support Eligibility Review Type"
Description: "The kind of peer support eligibility review (seed 003)."
* insert PBCodeSystem
* #admission "Admission" "Review of the service criteria (at least one must be met) and the exclusion criteria (any one excludes) before services start."
* #continued-stay "Continued stay" "Review of the continued-stay criteria, held with the service plan reviews."
* #discharge "Discharge" "Review of the discharge criteria (any one is sufficient)."

ValueSet: EligibilityReviewTypeVS
Id: eligibility-review-type
Title: "Peer Support Eligibility Review Type"
Description: "All peer support eligibility review types."
* insert PBMetadata
* include codes from system EligibilityReviewType


CodeSystem: EligibilityResult
Id: eligibility-result
Title: "Peer Support Eligibility Result"
Description: "Outcome of a peer support eligibility review. Admission reviews result in eligible or not-eligible; continued-stay and discharge reviews result in continue or discharge; any review can be indeterminate."
* insert PBCodeSystem
* #eligible "Eligible" "Admission: at least one service criterion is met and no exclusion criterion is met."
* #not-eligible "Not eligible" "Admission: no service criterion is met, or an exclusion criterion is met (peer support may then only be adjunctive to a more intensive level of care)."
* #continue "Continue services" "Continued-stay or discharge review: the continued-stay rule holds, or no discharge criterion is met."
* #discharge "Discharge" "Continued-stay or discharge review: a discharge criterion is met, or the continued-stay rule does not hold."
* #indeterminate "Indeterminate" "Too many criteria are unknown to decide."

ValueSet: EligibilityResultVS
Id: eligibility-result
Title: "Peer Support Eligibility Result"
Description: "All peer support eligibility results."
* insert PBMetadata
* include codes from system EligibilityResult
