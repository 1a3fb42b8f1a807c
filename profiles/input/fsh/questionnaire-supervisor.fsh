// Supervisor of Peer Workers Self-Assessment (BRSS TACS, seed 002; docs/domain.md#supervision).
// Statement wording is kept exactly as in the source form, without the leading number.

// A rating option: valueCoding from supervisor-competency-rating plus its ordinal value.
RuleSet: CompetencyOption(code, display)
* item[=].answerOption[+].extension[0].url = $ordinalValue
* item[=].answerOption[=].extension[0].valueDecimal = {code}
* item[=].answerOption[=].valueCoding = SupervisorCompetencyRating#{code} "{display}"

// One statement, rated 1 (professional learning need) to 5 (mastery).
RuleSet: SupervisorStatement(linkId, text)
* item[+].linkId = "{linkId}"
* item[=].text = "{text}"
* item[=].type = #choice
* item[=].required = true
* insert CompetencyOption(1, [[Professional learning need]])
* insert CompetencyOption(2, [[Personal learning need]])
* insert CompetencyOption(3, [[Sporadically competent]])
* insert CompetencyOption(4, [[Consistently competent]])
* insert CompetencyOption(5, [[Mastery]])

Instance: supervisor-peer-workers-self-assessment
InstanceOf: Questionnaire
Usage: #definition
Title: "Supervisor of Peer Workers Self-Assessment"
Description: "This Supervisor of Peer Workers Self-Assessment is designed to help you reflect on your own supervision practice and identify areas you would like to develop to become a more effective supervisor of peer workers. For areas that are learning needs, speak to your supervisor about strategies for learning the needed competencies. Each of the 11 statements is rated 1 Professional learning need, 2 Personal learning need, 3 Sporadically competent, 4 Consistently competent or 5 Mastery."
* url = "http://peerbridge.org/fhir/Questionnaire/supervisor-peer-workers-self-assessment"
* insert PBInstanceMetadata
* name = "SupervisorPeerWorkersSelfAssessment"
* subjectType[0] = #Practitioner
* subjectType[1] = #PractitionerRole
* code = PeerBridgeCodes#supervisor-peer-workers-self-assessment "Supervisor of Peer Workers Self-Assessment"
* insert Narrative([[Supervisor of Peer Workers Self-Assessment: 11 statements rated 1 (professional learning need) to 5 (mastery).]])
* insert SupervisorStatement(sup-1, [[I understand and can clarify organizational systems, structures and processes]])
* insert SupervisorStatement(sup-2, [[I understand the values and practice of peer support]])
* insert SupervisorStatement(sup-3, [[I understand the roles and responsibilities of peer support workers]])
* insert SupervisorStatement(sup-4, [[I can maintain a balance between the administrative, educational, and supportive functions of supervision]])
* insert SupervisorStatement(sup-5, [[I can establish a relationship characterized by trust and mutuality]])
* insert SupervisorStatement(sup-6, [[I can provide an environment that promotes reflection on peer support practice and ethics]])
* insert SupervisorStatement(sup-7, [[I can help a person set and plan for the achievement of professional goals]])
* insert SupervisorStatement(sup-8, [[I can teach and model skills needed for effective peer practice]])
* insert SupervisorStatement(sup-9, [[I can deliver strengths-based supervision and can use affirmations]])
* insert SupervisorStatement(sup-10, [[I can give feedback that assists the person in recognizing a professional development need]])
* insert SupervisorStatement(sup-11, [[I can advocate for recovery-oriented services within the agency]])
