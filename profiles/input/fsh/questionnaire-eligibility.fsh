// Peer support eligibility review (seed 003 sections IV-VII; docs/domain.md#eligibility-criteria): one
// Questionnaire for admission, continued-stay and discharge reviews. Each criterion is answered
// met / not-met / unknown; its item.code is the criterion's code in eligibility-criterion.
// SDC observation-based extraction: the read-only `determination` item carries item.code and
// observationExtract; its value is not a person's answer but the program's eligibility rule set
// (rules/, docs/domain.md#eligibility-criteria) applied to the criteria answered, which $extract
// evaluates for that code (src/pipeline/extract.ts).

// A criterion item inside the current group.
RuleSet: EligibilityCriterionItem(code, text)
* item[=].item[+].linkId = "{code}"
* item[=].item[=].code = EligibilityCriterion#{code} "{text}"
* item[=].item[=].text = "{text}"
* item[=].item[=].type = #choice
* item[=].item[=].answerValueSet = Canonical(CriterionStatusVS)

// A group of criteria shown for one review type.
RuleSet: EligibilityCriteriaGroup(linkId, reviewType, text)
* item[+].linkId = "{linkId}"
* item[=].text = "{text}"
* item[=].type = #group
* item[=].enableWhen[0].question = "review-type"
* item[=].enableWhen[0].operator = #=
* item[=].enableWhen[0].answerCoding = EligibilityReviewType#{reviewType}

Instance: peer-support-eligibility-review
InstanceOf: Questionnaire
Usage: #definition
Title: "Peer Support Eligibility Review"
Description: "Admission (service and exclusion criteria), continued-stay and discharge review for peer support services. Each criterion is answered met, not met or unknown. Admission: at least one service criterion must be met, and any one exclusion criterion excludes the person from this level of care. Continued stay: by default B and (A or C). Discharge: any one criterion is sufficient."
* url = "http://peerbridge.org/fhir/Questionnaire/peer-support-eligibility-review"
* insert PBInstanceMetadata
* name = "PeerSupportEligibilityReview"
* subjectType = #Patient
* code = PeerBridgeCodes#peer-support-eligibility-review "Peer support eligibility review"
* insert Narrative([[Peer Support Eligibility Review: admission (service and exclusion criteria), continued-stay and discharge criteria, each met, not met or unknown.]])
* item[0].linkId = "review-type"
* item[=].text = "Review type"
* item[=].type = #choice
* item[=].required = true
* item[=].answerValueSet = Canonical(EligibilityReviewTypeVS)
* insert EligibilityCriteriaGroup(service-criteria, admission, [[Service criteria: the person is experiencing difficulties in at least one of the following areas, or needs rehabilitative services to restore functioning in one of them (at least one must be met)]])
* insert EligibilityCriterionItem(service-A, [[Is receiving or has recently received crisis intervention services]])
* insert EligibilityCriterionItem(service-B, [[Is experiencing functional problems in his/her home, community, church, school, job or volunteer activity]])
* insert EligibilityCriterionItem(service-C, [[Is in recovery from mental illness or co-occurring disorders (mental illness and substance abuse) and is in need of mutual support from a peer in order to maintain recovery.]])
* insert EligibilityCriterionItem(service-D, [[Is experiencing money management problems]])
* insert EligibilityCriterionItem(service-E, [[Needs to develop self advocacy skills in order to decrease dependency on the formal mental health system]])
* insert EligibilityCriterionItem(service-F, [[Would benefit from peer modeling in order to take increased responsibility for his/her own recovery]])
* insert EligibilityCriterionItem(service-G, [[Needs peer supports in order to maintain self-sufficiency.]])
* insert EligibilityCriteriaGroup(exclusion-criteria, admission, [[Exclusion criteria: any one of the following is sufficient for exclusion from this level of care (peer support should then be adjunctive)]])
* insert EligibilityCriterionItem(exclusion-A, [[The individual is a risk to self or others, or sufficient impairment exists that a more intensive level of service is required.]])
* insert EligibilityCriterionItem(exclusion-B, [[The individual requires a level of structure and supervision beyond the scope of the program.]])
* insert EligibilityCriteriaGroup(continued-stay-criteria, continued-stay, [[Continued stay criteria]])
* insert EligibilityCriterionItem(continued-stay-A, [[Demonstrates a capacity to progress at his/her level of functioning.]])
* insert EligibilityCriterionItem(continued-stay-B, [[Client wishes to continue participation with peer support services.]])
* insert EligibilityCriterionItem(continued-stay-C, [[Additional Peer Support services have not been tried and are appropriate for the client's needs.]])
* insert EligibilityCriteriaGroup(discharge-criteria, discharge, [[Discharge criteria: any one of the following]])
* insert EligibilityCriterionItem(discharge-A, [[No longer wishes to receive peer support services]])
* insert EligibilityCriterionItem(discharge-B, [[Goals of the client's service plan and program have been substantially met.]])
* item[+].extension[0].url = $sdc-observationExtract
* item[=].extension[0].valueBoolean = true
* item[=].linkId = "determination"
* item[=].code = PeerBridgeCodes#eligibility-determination "Peer support eligibility determination"
* item[=].text = "Determination (the program's eligibility rules applied to the criteria above)"
* item[=].type = #choice
* item[=].readOnly = true
* item[=].answerValueSet = Canonical(EligibilityResultVS)
