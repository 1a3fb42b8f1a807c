// Local code systems for peer support services, each with a ValueSet of the same id that
// includes the whole system. Sources: docs/domain.md and seeds 001 (social support types),
// 003 (interventions, credentials), 004 section 4 (referral reasons), 002 (rating scales).

CodeSystem: PeerBridgeCodes
Id: peerbridge-codes
Title: "PeerBridge Codes"
Description: "Local codes used by PeerBridge where no standard code exists: the peer support episode type, the recovery plan category, questionnaire codes (no LOINC code exists for these instruments) and observation / component codes."
* insert PBCodeSystem
* #peer-support "Peer support services" "An episode of behavioral-health peer support services (no fitting code in episodeofcare-type)."
* #peer-recovery-plan "Peer support recovery plan" "A person-centered recovery / service plan made with a peer support specialist, including a WRAP or personal crisis plan where present."
* #idaho-recovery-capital-scale "Idaho Recovery Capital Scale" "The 23-statement Idaho Recovery Capital Scale (adapted from William White), a self-report instrument."
* #peer-support-eligibility-review "Peer support eligibility review" "Admission, continued-stay or discharge review of a person against the peer support service criteria."
* #supervisor-peer-workers-self-assessment "Supervisor of Peer Workers Self-Assessment" "The 11-statement self-assessment of a supervisor of peer workers (BRSS TACS)."
* #recovery-capital-total "Idaho Recovery Capital Scale total score" "Sum of the 23 Idaho Recovery Capital Scale ratings (23-115)."
* #eligibility-determination "Peer support eligibility determination" "The outcome of an admission, continued-stay or discharge review."
* #review-type "Eligibility review type" "Which review an eligibility determination answers: admission, continued stay or discharge."
* #deciding-criterion "Deciding criterion" "A criterion whose status decided an eligibility determination."
* #part2-program "42 CFR Part 2 program" "A federally assisted substance use disorder program whose records are protected by 42 CFR Part 2 (used on Organization.type)."
* #source-record "Source record identifier" "The identifier of the record this resource was translated from, in its source system (used on Identifier.type)."

ValueSet: PeerBridgeCodesVS
Id: peerbridge-codes
Title: "PeerBridge Codes"
Description: "All codes of the PeerBridge Codes code system."
* insert PBMetadata
* include codes from system PeerBridgeCodes


CodeSystem: PeerIntervention
Id: peer-intervention
Title: "Peer Support Intervention"
Description: "Peer support interventions (seed 003, I. Definition of Services)."
* insert PBCodeSystem
* #self-help "Self help" "Developing a person's ability to make informed, independent choices; helping the person develop a network of contacts for information and support with the help of the experienced peer specialist."
* #community-education "Community education" "Working with community providers and other natural support entities to teach them about recovery and mental illness, and to decrease stigma and discrimination."
* #individual-advocacy "Individual advocacy" "Discussing the person's concerns with prescribers and other professional staff at the person's request, helping make appointments, and teaching the person to advocate for themselves."
* #pre-crisis-support "Pre-crisis support" "Helping the person create and implement a WRAP plan or personal crisis plan, and making appropriate referrals if the person may be escalating to a crisis."
* #education-volunteering-employment "Education, volunteering, employment" "Helping the person get information about returning to school, applying for volunteer positions and job training, and how to ask for reasonable accommodations."
* #managing-distressing-symptoms "Managing distressing symptoms" "Working with the person and treatment team, from an experiential basis, to identify effective strategies for managing distressing symptoms."

ValueSet: PeerInterventionVS
Id: peer-intervention
Title: "Peer Support Intervention"
Description: "All peer support interventions."
* insert PBMetadata
* include codes from system PeerIntervention


CodeSystem: SocialSupportType
Id: social-support-type
Title: "Peer Social Support Type"
Description: "The four key types of social support that peer support specialists provide (seed 001)."
* insert PBCodeSystem
* #emotional "Emotional" "Demonstrate empathy, caring, or concern to bolster the person's self-esteem and confidence (e.g., peer mentoring, peer-led support groups)."
* #informational "Informational" "Share knowledge and information and/or provide life or vocational skills training (e.g., parenting class, job readiness training)."
* #instrumental "Instrumental" "Provide concrete assistance to help others accomplish tasks (e.g., transportation, help accessing health and social services)."
* #affiliational "Affiliational" "Facilitate contacts with other people to promote learning of social and recreational skills, create community, and acquire a sense of belonging (e.g., wellness recovery centers, sports league participation)."

ValueSet: SocialSupportTypeVS
Id: social-support-type
Title: "Peer Social Support Type"
Description: "All peer social support types."
* insert PBMetadata
* include codes from system SocialSupportType


CodeSystem: PeerCredential
Id: peer-credential
Title: "Peer Support Credential"
Description: "Credentials of peer support workers (seeds 003 and 004)."
* insert PBCodeSystem
* #certified-peer-specialist "Certified Peer Specialist" "State-certified peer specialist with lived experience of recovery from mental illness, substance use disorder or both."
* #certified-peer-counselor "Certified Peer Counselor" "Peer counselor registered with the state department of health after specialized training and an examination (e.g., Washington State)."
* #family-peer-specialist "Family Peer Specialist" "Peer specialist whose lived experience is as the parent or family member of a person with a serious mental illness or serious emotional disorder."
* #paraprofessional-peer "Paraprofessional peer specialist" "Peer support specialist who is not certified (for example because of a legal history) but has been trained in the basic concepts of peer support."

ValueSet: PeerCredentialVS
Id: peer-credential
Title: "Peer Support Credential"
Description: "All peer support credentials."
* insert PBMetadata
* include codes from system PeerCredential


CodeSystem: PeerReferralReason
Id: peer-referral-reason
Title: "Peer Support Referral Reason"
Description: "Who may benefit from peer support (seed 004, section 4: Referral to Peer Support Services)."
* insert PBCodeSystem
* #expresses-interest "Expresses an interest" "Anyone who expresses an interest in peer support."
* #difficulty-engaging "Difficulty engaging in mental health services" "The person is, has had, or is having difficulty with engaging in mental health services."
* #family-member "Family member" "Families: a family member of a person in or seeking recovery."
* #frequently-hospitalized "Frequently hospitalized" "The person is frequently hospitalized."
* #new-to-system "New to the mental health system" "The person is new to the mental health system."
* #socially-isolated "Socially isolated" "The person is socially isolated."
* #needs-personal-contact "Needs more personal contact" "In order to thrive, the person requires more personal contact than may be possible as part of a large caseload."

ValueSet: PeerReferralReasonVS
Id: peer-referral-reason
Title: "Peer Support Referral Reason"
Description: "All peer support referral reasons."
* insert PBMetadata
* include codes from system PeerReferralReason


CodeSystem: RecoveryCapitalAgreement
Id: recovery-capital-agreement
Title: "Recovery Capital Agreement Rating"
Description: "Rating of one Idaho Recovery Capital Scale statement (seed 002). The code equals the ordinal value (1-5)."
* insert PBCodeSystem
* #1 "Completely disagree"
* #2 "Mostly disagree"
* #3 "Agree a little"
* #4 "Mostly Agree"
* #5 "Completely Agree"

ValueSet: RecoveryCapitalAgreementVS
Id: recovery-capital-agreement
Title: "Recovery Capital Agreement Rating"
Description: "All recovery capital agreement ratings."
* insert PBMetadata
* include codes from system RecoveryCapitalAgreement


CodeSystem: SupervisorCompetencyRating
Id: supervisor-competency-rating
Title: "Supervisor Competency Rating"
Description: "Rating scale of the Supervisor of Peer Workers Self-Assessment (seed 002). The code equals the ordinal value (1-5)."
* insert PBCodeSystem
* #1 "Professional learning need" "I don't know how to do this."
* #2 "Personal learning need" "I know how to do this but unable to make it happen."
* #3 "Sporadically competent" "I occasionally do this fine."
* #4 "Consistently competent" "This has become a part of my natural way of doing things."
* #5 "Mastery" "I can role model this and can teach it to others."

ValueSet: SupervisorCompetencyRatingVS
Id: supervisor-competency-rating
Title: "Supervisor Competency Rating"
Description: "All supervisor competency ratings."
* insert PBMetadata
* include codes from system SupervisorCompetencyRating
