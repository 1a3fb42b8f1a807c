// Idaho Recovery Capital Scale (seed 002; docs/domain.md#recovery-capital-idaho-recovery-capital-scale). Statement wording is kept
// exactly as in the source form. No LOINC code exists: Questionnaire.code is a local code.
// SDC observation-based extraction (http://hl7.org/fhir/uv/sdc/extraction.html#observation-based-extraction):
// each statement has an item.code (recovery-capital-item) and the total carries item.code and
// observationExtract, so $extract makes the total Observation from this markup.

Alias: $sdc-observationExtract = http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-observationExtract

CodeSystem: RecoveryCapitalItem
Id: recovery-capital-item
Title: "Idaho Recovery Capital Scale items"
Description: "The 23 statements of the Idaho Recovery Capital Scale, as item codes (Questionnaire.item.code) of its Questionnaire."
* ^url = "http://peerbridge.org/fhir/CodeSystem/recovery-capital-item"
* ^version = "0.1.0"
* ^status = #active
* ^experimental = false
* ^caseSensitive = true
* ^content = #complete
* #irc-1 "I live in an environment that is free from alcohol and other drugs"
* #irc-2 "I have an intimate partner that is supportive of my recovery"
* #irc-3 "I have family members who are supportive of my recovery"
* #irc-4 "I have friends who are supportive of my recovery"
* #irc-5 "I have people close to me (intimate partner, family, friends) who are also in recovery"
* #irc-6 "I have a job that provides for my basic needs"
* #irc-7 "I have a written plan for my recovery"
* #irc-8 "I am in reasonably good physical health"
* #irc-9 "I am in reasonably good mental health"
* #irc-10 "I have a plan to manage my mental health"
* #irc-11 "I am taking prescribed medication to support my mental health"
* #irc-12 "I am taking prescribed medication to help my cravings for alcohol or other drugs"
* #irc-13 "I have access to regular healthy meals"
* #irc-14 "I have clothes that are comfortable and clean and do not represent drug using"
* #irc-15 "I have access to recovery support groups in my community"
* #irc-16 "I am regularly involved with a local recovery support group"
* #irc-17 "I have a sponsor or other mentor for my recovery"
* #irc-18 "I have people who look to me as a mentor for their recovery"
* #irc-19 "I have completed or am complying with all legal requirements related to my past"
* #irc-20 "I have recovery rituals that are part of my daily life"
* #irc-21 "I have goals for my future"
* #irc-22 "I feel I am a part of my community"
* #irc-23 "Services to others is an important part of my life today"

// A rating option: valueCoding from recovery-capital-agreement plus its ordinal value.
RuleSet: AgreementOption(code, display)
* item[=].answerOption[+].extension[0].url = $ordinalValue
* item[=].answerOption[=].extension[0].valueDecimal = {code}
* item[=].answerOption[=].valueCoding = RecoveryCapitalAgreement#{code} "{display}"

// One statement of the scale, rated 1 (completely disagree) to 5 (completely agree).
RuleSet: RecoveryCapitalStatement(linkId, text)
* item[+].linkId = "{linkId}"
* item[=].code = RecoveryCapitalItem#{linkId} "{text}"
* item[=].text = "{text}"
* item[=].type = #choice
* item[=].required = true
* insert AgreementOption(1, [[Completely disagree]])
* insert AgreementOption(2, [[Mostly disagree]])
* insert AgreementOption(3, [[Agree a little]])
* insert AgreementOption(4, [[Mostly Agree]])
* insert AgreementOption(5, [[Completely Agree]])

// A free-text item answered up to {max} times.
RuleSet: RepeatingText(linkId, text, max)
* item[+].extension[0].url = $questionnaire-maxOccurs
* item[=].extension[0].valueInteger = {max}
* item[=].linkId = "{linkId}"
* item[=].text = "{text}"
* item[=].type = #string
* item[=].repeats = true

Instance: idaho-recovery-capital-scale
InstanceOf: Questionnaire
Usage: #definition
Title: "Idaho Recovery Capital Scale"
Description: "Idaho Recovery Capital Scale (adapted from William White, for the Idaho Response to Opiate Crisis Project): 23 statements, each rated 5 Completely Agree, 4 Mostly Agree, 3 Agree a little, 2 Mostly disagree, 1 Completely disagree. The total (23-115) is the sum of the ratings. The form also asks for up to five areas of recovery capital to increase in the next 6 months, up to three activities for the next week and up to three people who will help. The administration date is QuestionnaireResponse.authored."
* url = "http://peerbridge.org/fhir/Questionnaire/idaho-recovery-capital-scale"
* insert PBInstanceMetadata
* name = "IdahoRecoveryCapitalScale"
* subjectType = #Patient
* code = PeerBridgeCodes#idaho-recovery-capital-scale "Idaho Recovery Capital Scale"
* insert Narrative([[Idaho Recovery Capital Scale: 23 statements rated 1 (completely disagree) to 5 (completely agree); total 23-115; areas to increase, next-week activities and helpers.]])
// The form's instruction line, as a display item so that SDC renderers show it above the statements.
* item[+].linkId = "instructions"
* item[=].text = "Place a number by each statement that best describes your situation today."
* item[=].type = #display
* insert RecoveryCapitalStatement(irc-1, [[I live in an environment that is free from alcohol and other drugs]])
* insert RecoveryCapitalStatement(irc-2, [[I have an intimate partner that is supportive of my recovery]])
* insert RecoveryCapitalStatement(irc-3, [[I have family members who are supportive of my recovery]])
* insert RecoveryCapitalStatement(irc-4, [[I have friends who are supportive of my recovery]])
* insert RecoveryCapitalStatement(irc-5, [[I have people close to me (intimate partner, family, friends) who are also in recovery]])
* insert RecoveryCapitalStatement(irc-6, [[I have a job that provides for my basic needs]])
* insert RecoveryCapitalStatement(irc-7, [[I have a written plan for my recovery]])
* insert RecoveryCapitalStatement(irc-8, [[I am in reasonably good physical health]])
* insert RecoveryCapitalStatement(irc-9, [[I am in reasonably good mental health]])
* insert RecoveryCapitalStatement(irc-10, [[I have a plan to manage my mental health]])
* insert RecoveryCapitalStatement(irc-11, [[I am taking prescribed medication to support my mental health]])
* insert RecoveryCapitalStatement(irc-12, [[I am taking prescribed medication to help my cravings for alcohol or other drugs]])
* insert RecoveryCapitalStatement(irc-13, [[I have access to regular healthy meals]])
* insert RecoveryCapitalStatement(irc-14, [[I have clothes that are comfortable and clean and do not represent drug using]])
* insert RecoveryCapitalStatement(irc-15, [[I have access to recovery support groups in my community]])
* insert RecoveryCapitalStatement(irc-16, [[I am regularly involved with a local recovery support group]])
* insert RecoveryCapitalStatement(irc-17, [[I have a sponsor or other mentor for my recovery]])
* insert RecoveryCapitalStatement(irc-18, [[I have people who look to me as a mentor for their recovery]])
* insert RecoveryCapitalStatement(irc-19, [[I have completed or am complying with all legal requirements related to my past]])
* insert RecoveryCapitalStatement(irc-20, [[I have recovery rituals that are part of my daily life]])
* insert RecoveryCapitalStatement(irc-21, [[I have goals for my future]])
* insert RecoveryCapitalStatement(irc-22, [[I feel I am a part of my community]])
* insert RecoveryCapitalStatement(irc-23, [[Services to others is an important part of my life today]])
* item[+].extension[0].url = $sdc-calculatedExpression
* item[=].extension[0].valueExpression.description = "Sum of the 23 ratings (each rating code equals its ordinal value)"
* item[=].extension[0].valueExpression.language = #text/fhirpath
* item[=].extension[0].valueExpression.expression = "%resource.item.where(linkId.startsWith('irc-')).answer.value.select(code.toInteger()).aggregate($this + $total, 0)"
* item[=].extension[1].url = $sdc-observationExtract
* item[=].extension[1].valueBoolean = true
* item[=].linkId = "total"
* item[=].code = PeerBridgeCodes#recovery-capital-total "Idaho Recovery Capital Scale total score"
* item[=].text = "My Score"
* item[=].type = #integer
* item[=].readOnly = true
* insert RepeatingText(areas-to-increase, [[Five areas of recovery capital I want to increase in the next 6 months]], 5)
* insert RepeatingText(next-week-activities, [[In the next week I will do the following activities to help me increase my recovery capital]], 3)
* insert RepeatingText(helpers, [[Who will help me work on these activities?]], 3)
