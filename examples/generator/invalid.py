"""Builds examples/invalid: each file breaks exactly one rule of an otherwise valid example."""
import copy
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import valid as V  # noqa: E402

OUT = os.path.join(V.ROOT, 'examples', 'invalid')

res = {f"{r['resourceType']}/{r['id']}": r for r in V.episode_resources() + [V.supervisor_response()]}


def get(key):
    return copy.deepcopy(res[key])


PATIENT = 'Patient/' + V.PATIENT_ID
ORG = 'Organization/' + V.ORG_ID
ENC = 'Encounter/' + V.CONTACTS[0]['id']
ENC_PHONE = 'Encounter/' + V.CONTACTS[1]['id']
CHG = 'ChargeItem/' + V.CONTACTS[0]['id'].replace('contact', 'charge')
RCQR = 'QuestionnaireResponse/' + V.RC[0]['qr']
RCOBS = 'Observation/' + V.RC[0]['obs']
ELIGOBS = 'Observation/' + V.ELIG_OBS_ID
REF = 'ServiceRequest/' + V.REFERRAL_ID
EOC = 'EpisodeOfCare/' + V.EPISODE_ID
PLAN = 'CarePlan/' + V.PLAN_ID
GOAL = 'Goal/' + V.GOALS[0][0]
PSS = 'Practitioner/' + V.PSS_ID


def questionnaire():
    """The eligibility review Questionnaire from the package, as a standalone instance with a narrative."""
    q = copy.deepcopy(V.ELIG)
    q['text'] = V.narrative('Peer support eligibility review: admission, continued-stay and discharge criteria, each answered met, not met or unknown.')
    order = ['resourceType', 'id', 'text']
    return {**{k: q[k] for k in order}, **{k: v for k, v in q.items() if k not in order}}


def bundle():
    return V.bundle(V.episode_resources())


CASES = []  # (file, rule, base, mutate(resource) -> resource, expression, message)


def case(name, rule, base, expression, message):
    def deco(fn):
        CASES.append((name, rule, base, fn, expression, message))
        return fn
    return deco


# --- ids, arrays, strings ------------------------------------------------------------------------

@case('01-id-with-space', 'A resource id may not contain a space', PATIENT, 'Patient.id', 'Invalid resource id')
def _(r):
    r['id'] = 'dana whitfield'
    return r


@case('02-id-too-long', 'A resource id has at most 64 characters', PATIENT, 'Patient.id', 'Invalid resource id')
def _(r):
    r['id'] = 'dana-whitfield-' + 'x' * 50
    return r


@case('03-empty-array', 'An array may not be empty (leave the element out)', PATIENT, 'Patient.telecom', "Empty array for 'telecom'")
def _(r):
    r['telecom'] = []
    return r


@case('04-empty-string', 'A string may not be empty', PATIENT, 'Patient.name[0].family', 'Empty string')
def _(r):
    r['name'][0]['family'] = ''
    return r


@case('05-whitespace-string', 'A string may not be whitespace only', ORG, 'Organization.name', 'only whitespace')
def _(r):
    r['name'] = '   '
    return r


@case('06-period-start-after-end', 'A Period may not start after it ends (per-1)', ENC, 'Encounter.period', 'Period starts (2026-09-15T10:52:00-05:00) after it ends')
def _(r):
    r['period'] = {'start': '2026-09-15T10:52:00-05:00', 'end': '2026-09-15T10:00:00-05:00'}
    return r


# --- Bundle ---------------------------------------------------------------------------------------

@case('07-bundle-duplicate-fullurl', 'Every Bundle entry has its own fullUrl (bdl-7)', 'Bundle', 'Bundle.entry[1].fullUrl', 'Duplicate fullUrl')
def _(r):
    r['entry'][1]['fullUrl'] = r['entry'][0]['fullUrl']
    return r


@case('08-bundle-duplicate-resource', 'A resource (type and id) appears once in a Bundle', 'Bundle', 'Bundle.entry[26].resource.id', 'Duplicate resource Patient/dana-whitfield')
def _(r):
    extra = copy.deepcopy(r['entry'][0])
    extra['fullUrl'] = 'urn:uuid:0c2f7d0e-5b7a-4c55-9d3e-7f1e2a9b4c61'
    r['entry'].append(extra)
    assert len(r['entry']) == 27
    return r


@case('09-bundle-transaction-entry-without-request', 'Entries of a transaction Bundle have a request (bdl-3)', 'Bundle', 'Bundle', 'bdl-3')
def _(r):
    del r['entry'][3]['request']
    return r


# --- narrative -----------------------------------------------------------------------------------

DIV = '<div xmlns="http://www.w3.org/1999/xhtml">'


@case('10-narrative-script', 'Narrative may not contain <script> (txt-1)', PATIENT, 'Patient.text.div', 'may not contain <script>')
def _(r):
    r['text']['div'] = DIV + '<p>Dana Whitfield, female, born 1986-09-03.</p><script>alert(document.cookie)</script></div>'
    return r


@case('11-narrative-onclick', 'Narrative may not use event handler attributes (txt-1)', PATIENT, 'Patient.text.div', "attribute 'onclick'")
def _(r):
    r['text']['div'] = DIV + '<p onclick="alert(1)">Dana Whitfield, female, born 1986-09-03.</p></div>'
    return r


@case('12-narrative-javascript-href', 'Narrative links may not use javascript: URLs (txt-1)', PATIENT, 'Patient.text.div', 'script or data URL')
def _(r):
    r['text']['div'] = DIV + '<p><a href="javascript:alert(1)">Dana Whitfield</a>, female, born 1986-09-03.</p></div>'
    return r


@case('13-narrative-missing-xmlns', 'The narrative div is in the XHTML namespace', PATIENT, 'Patient.text.div', 'must declare xmlns')
def _(r):
    r['text']['div'] = '<div><p>Dana Whitfield, female, born 1986-09-03.</p></div>'
    return r


# --- extensions ------------------------------------------------------------------------------------

@case('14-extension-wrong-value-type', 'The peer-intervention extension takes a valueCodeableConcept', ENC, 'Encounter.extension[0].valueString', 'may only be CodeableConcept')
def _(r):
    r['extension'][0] = {'url': V.SD + 'peer-intervention', 'valueString': 'self-help'}
    return r


@case('15-unknown-peerbridge-extension', 'Extensions under our canonical must be defined', ENC, 'Encounter.extension[0]', "Unknown extension 'http://peerbridge.org/fhir/StructureDefinition/peer-mood'")
def _(r):
    r['extension'].insert(0, {'url': V.SD + 'peer-mood', 'valueString': 'hopeful'})
    return r


@case('16-extension-wrong-context', 'An extension may only be used where its context allows (crisis-plan-present is for CarePlan)', ENC, 'Encounter.extension[7]', 'is not allowed on Encounter')
def _(r):
    r['extension'].append({'url': V.SD + 'crisis-plan-present', 'valueBoolean': True})
    assert len(r['extension']) == 8
    return r


# --- Questionnaire -----------------------------------------------------------------------------------

@case('17-questionnaire-enablewhen-missing-linkid', 'enableWhen.question must be the linkId of an item', 'Questionnaire', 'Questionnaire.item[1].enableWhen[0].question', "question 'review-kind', which is not an item")
def _(r):
    r['item'][1]['enableWhen'][0]['question'] = 'review-kind'
    return r


@case('18-questionnaire-enablewhen-wrong-answer-type', 'enableWhen on a choice item compares with answerCoding', 'Questionnaire', 'Questionnaire.item[1].enableWhen[0].answerString', 'must use answerCoding')
def _(r):
    ew = r['item'][1]['enableWhen'][0]
    del ew['answerCoding']
    ew['answerString'] = 'admission'
    return r


@case('19-questionnaire-duplicate-linkid', 'linkIds are unique in a Questionnaire (que-2)', 'Questionnaire', 'Questionnaire.item[1].item[1].linkId', "linkId 'service-A' is used by more than one item")
def _(r):
    r['item'][1]['item'][1]['linkId'] = 'service-A'
    return r


# --- required bindings, codes ----------------------------------------------------------------------

@case('20-encounter-status-done', "Encounter.status comes from a required value set ('done' is not an encounter status)", ENC, 'Encounter.status', "Code 'done' is not in the required value set")
def _(r):
    r['status'] = 'done'
    return r


@case('21-patient-gender-unknownish', 'Patient.gender comes from a required value set', PATIENT, 'Patient.gender', "Code 'unknownish' is not in the required value set")
def _(r):
    r['gender'] = 'unknownish'
    return r


@case('22-eligibility-result-outside-binding', 'An eligibility determination value comes from the eligibility-result value set (required)', ELIGOBS, 'Observation.valueCodeableConcept', 'is in the required value set http://peerbridge.org/fhir/ValueSet/eligibility-result')
def _(r):
    r['valueCodeableConcept'] = V.cc(V.local('eligibility-review-type', 'admission'))
    return r


@case('23-unknown-code-in-our-codesystem', 'A code must exist in the PeerBridge CodeSystem it claims', REF, 'ServiceRequest.reasonCode[1].coding[0].code', "Unknown code 'recently-homeless'")
def _(r):
    r['reasonCode'][1] = {'coding': [{'system': V.CS + 'peer-referral-reason', 'code': 'recently-homeless', 'display': 'Recently homeless'}]}
    return r


@case('24-encounter-class-outside-binding', 'Encounter.class comes from the peer-encounter-class value set (required)', ENC, 'Encounter.class', 'is not in the required value set http://peerbridge.org/fhir/ValueSet/peer-encounter-class')
def _(r):
    r['class'] = {'system': V.ACT, 'code': 'IMP', 'display': 'inpatient encounter'}
    return r


# --- profiles --------------------------------------------------------------------------------------

@case('25-unknown-meta-profile', 'meta.profile must name a profile the validator knows', PATIENT, 'Patient.meta.profile[0]', "Unknown profile 'http://peerbridge.org/fhir/StructureDefinition/peer-patient'")
def _(r):
    r = {'resourceType': r['resourceType'], 'id': r['id'], 'meta': {'profile': [V.SD + 'peer-patient']}, **{k: v for k, v in r.items() if k not in ('resourceType', 'id')}}
    return r


@case('26-profile-for-other-type', 'A profile in meta.profile must be for the resource type', PATIENT, 'Patient', 'is for Practitioner resources, not Patient')
def _(r):
    r = {'resourceType': r['resourceType'], 'id': r['id'], 'meta': {'profile': [V.SD + 'peer-specialist']}, **{k: v for k, v in r.items() if k not in ('resourceType', 'id')}}
    return r


@case('27-unknown-resource-type', 'resourceType must be a FHIR R4 resource type', ENC, 'PeerSupportContact', "Unknown resourceType 'PeerSupportContact'")
def _(r):
    r['resourceType'] = 'PeerSupportContact'
    del r['meta']
    return r


@case('28-encounter-missing-episode', 'A peer support encounter belongs to an episode (episodeOfCare 1..*)', ENC, 'Encounter.episodeOfCare', "Missing required element 'episodeOfCare'")
def _(r):
    del r['episodeOfCare']
    return r


@case('29-encounter-missing-h0038', 'A peer support encounter type includes HCPCS H0038 (slice h0038 1..1)', ENC, 'Encounter.type', "Slice 'h0038' of 'type' has 0 value(s)")
def _(r):
    r['type'] = r['type'][1:]
    return r


@case('30-encounter-with-diagnosis', 'A peer support encounter carries no diagnosis (diagnosis 0..0)', ENC, 'Encounter.diagnosis', "'diagnosis' has 1 value(s); allowed 0..0")
def _(r):
    r['diagnosis'] = [{'condition': {'reference': 'Condition/dana-whitfield-depression'}, 'rank': 1}]
    return r


@case('31-finished-encounter-without-end', 'A finished peer support encounter has period.end (pb-enc-1)', ENC, 'Encounter', 'pb-enc-1')
def _(r):
    del r['period']['end']
    return r


@case('32-encounter-length-in-hours', 'Encounter.length is in minutes (UCUM min)', ENC, 'Encounter.length.code', 'Value must match the pattern "min"')
def _(r):
    r['length'] = {'value': 0.87, 'unit': 'h', 'system': V.UCUM, 'code': 'h'}
    return r


@case('33-recovery-capital-total-150', 'A recovery capital total is between 23 and 115 (pb-rct-1)', RCOBS, 'Observation', 'pb-rct-1')
def _(r):
    r['valueInteger'] = 150
    return r


@case('34-recovery-capital-answer-not-an-option', 'A recovery capital answer is one of the item\'s answer options', RCQR, 'QuestionnaireResponse.item[4].answer[0].valueCoding', "is not one of the options of item 'irc-5'")
def _(r):
    r['item'][4]['answer'][0]['valueCoding'] = V.local('supervisor-competency-rating', '3')
    return r


@case('35-recovery-capital-missing-item', 'A completed recovery capital response answers every required item', RCQR, 'QuestionnaireResponse', "Required item 'irc-12'")
def _(r):
    r['item'] = [i for i in r['item'] if i['linkId'] != 'irc-12']
    return r


@case('36-recovery-capital-answer-wrong-type', 'A choice item is answered with valueCoding', RCQR, 'QuestionnaireResponse.item[2].answer[0].valueInteger', "Item 'irc-3' is a choice question")
def _(r):
    r['item'][2]['answer'][0] = {'valueInteger': 2}
    return r


@case('37-recovery-capital-too-many-areas', 'At most five areas to increase (questionnaire-maxOccurs)', RCQR, 'QuestionnaireResponse.item[24].answer', "Item 'areas-to-increase' allows at most 5 answers, found 6")
def _(r):
    assert r['item'][24]['linkId'] == 'areas-to-increase'
    r['item'][24]['answer'].append({'valueString': 'Housing'})
    return r


@case('38-eligibility-determination-missing-review-type', 'An eligibility determination names the review type (component slice reviewType 1..1)', ELIGOBS, 'Observation.component', "Slice 'reviewType' of 'component' has 0 value(s)")
def _(r):
    r['component'] = r['component'][1:]
    return r


@case('39-episode-finished-without-end', 'A finished peer support episode has period.end (pb-eoc-1)', EOC, 'EpisodeOfCare', 'pb-eoc-1')
def _(r):
    r['status'] = 'finished'
    return r


@case('40-chargeitem-quantity-zero', 'A peer support charge has 1 to 96 units (pb-chg-1)', CHG, 'ChargeItem', 'pb-chg-1')
def _(r):
    r['quantity'] = {'value': 0}
    return r


@case('41-goal-without-description-text', 'A recovery goal is in the person\'s own words (description.text 1..1)', GOAL, 'Goal.description.text', "Missing required element 'text'")
def _(r):
    r['description'] = {'coding': [{'system': 'http://snomed.info/sct', 'code': '713015000', 'display': 'Attending support group'}]}
    return r


@case('42-referral-intent-plan', 'A peer support referral has intent order (fixed)', REF, 'ServiceRequest.intent', 'Value must match the pattern "order"')
def _(r):
    r['intent'] = 'plan'
    return r


# --- references --------------------------------------------------------------------------------------

@case('43-encounter-subject-practitioner', 'Encounter.subject refers to a Patient', ENC, 'Encounter.subject.reference', 'Reference to a Practitioner is not allowed here; expected Patient')
def _(r):
    r['subject'] = V.PSS
    return r


@case('44-malformed-reference', 'A reference is Type/id, #id or an absolute URL', ENC, 'Encounter.subject.reference', 'is not of the form Type/id')
def _(r):
    r['subject'] = {'reference': 'Patient/dana whitfield'}
    return r


@case('45-reference-type-mismatch', 'Reference.type agrees with the reference', ENC, 'Encounter.serviceProvider.type', "Reference.type 'Location' does not match")
def _(r):
    r['serviceProvider'] = {'reference': 'Organization/' + V.ORG_ID, 'type': 'Location'}
    return r


# --- primitives and JSON ------------------------------------------------------------------------------

@case('46-invalid-date', 'A date must be a real calendar date (2024-02-30 is not)', PATIENT, 'Patient.birthDate', 'not a real calendar date')
def _(r):
    r['birthDate'] = '2024-02-30'
    return r


@case('47-datetime-without-zone', 'A dateTime with a time has a time zone', ENC, 'Encounter.period.start', 'must have a time zone')
def _(r):
    r['period']['start'] = '2026-09-15T10:00:00'
    return r


@case('48-unknown-element', 'Elements must be defined by the resource type (Patient.foo)', PATIENT, 'Patient.foo', "Unknown element 'foo'")
def _(r):
    r['foo'] = 'bar'
    return r


@case('49-json-array', 'A FHIR JSON file holds one resource (an object), not an array', PATIENT, '', 'got a JSON array')
def _(r):
    return [r]


@case('50-contained-not-referenced', 'A contained resource is referenced from its container (dom-3)', PATIENT, 'Patient.contained[0]', "Contained resource 'sister' is not referenced")
def _(r):
    contained = {'resourceType': 'RelatedPerson', 'id': 'sister', 'text': V.narrative('Carla Whitfield, sister of Dana.'), 'patient': {'reference': 'Patient/' + V.PATIENT_ID},
                 'relationship': [V.cc({'system': 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', 'code': 'SIS', 'display': 'sister'})],
                 'name': [{'family': 'Whitfield', 'given': ['Carla']}]}
    r = {'resourceType': 'Patient', 'id': r['id'], 'text': r['text'], 'contained': [contained], **{k: v for k, v in r.items() if k not in ('resourceType', 'id', 'text')}}
    return r


@case('51-integer-as-string', 'An integer is a JSON number, not a string', RCOBS, 'Observation.valueInteger', 'Expected a JSON number')
def _(r):
    r['valueInteger'] = str(r['valueInteger'])
    return r


# --- rules the validator does not check yet (see examples/README.md) -----------------------------

@case('52-two-choice-values', 'A choice element ([x]) takes one value: deceasedBoolean and deceasedDateTime together are invalid', PATIENT, 'Patient.deceasedDateTime', 'deceased[x]')
def _(r):
    r['deceasedBoolean'] = False
    r['deceasedDateTime'] = '2026-10-01T08:00:00-05:00'
    return r


@case('53-answer-in-disabled-group', 'A response has no answers in items that are not enabled (continued-stay criteria in an admission review)', 'QuestionnaireResponse/' + V.ELIG_QR_ID, 'QuestionnaireResponse.item[3].linkId', 'is not enabled')
def _(r):
    group = next(g for g in V.ELIG['item'] if g['linkId'] == 'continued-stay-criteria')
    r['item'].append({'linkId': group['linkId'], 'text': group['text'],
                      'item': [{'linkId': it['linkId'], 'text': it['text'], 'answer': [{'valueCoding': V.local('criterion-status', 'met')}]}
                               for it in group['item']]})
    assert len(r['item']) == 4
    return r


@case('54-bundle-put-url-mismatch', 'In a transaction, PUT Type/id names the resource the entry holds', 'Bundle', 'Bundle.entry[0].request.url', 'does not match')
def _(r):
    r['entry'][0]['request']['url'] = 'Patient/dana-w'
    return r


@case('55-bundle-fullurl-bad-uuid', 'A urn:uuid: fullUrl holds a valid UUID', 'Bundle', 'Bundle.entry[0].fullUrl', 'UUID')
def _(r):
    r['entry'][0]['fullUrl'] = 'urn:uuid:dana-whitfield'
    return r


BASES = {'Questionnaire': questionnaire, 'Bundle': bundle}


def base(key):
    return BASES[key]() if key in BASES else get(key)


def build():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith('.json'):
            os.remove(os.path.join(OUT, f))
    table = []
    bases = {}
    for name, rule, key, fn, expression, message in CASES:
        content = fn(base(key))
        text = json.dumps(content, indent=2, ensure_ascii=False) + '\n'
        with open(os.path.join(OUT, name + '.json'), 'w') as f:
            f.write(text)
        table.append({'file': name + '.json', 'rule': rule, 'expression': expression, 'message': message})
        bases[name + '.json'] = key
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump(table, f, indent=2, ensure_ascii=False)
        f.write('\n')
    return bases


if __name__ == '__main__':
    bases = build()
    if len(sys.argv) > 1:
        # python3 invalid.py DIR: also write the unmutated bases there, to check that each is valid on its own.
        os.makedirs(sys.argv[1], exist_ok=True)
        for key in set(bases.values()):
            with open(os.path.join(sys.argv[1], key.replace('/', '_') + '.json'), 'w') as f:
                json.dump(base(key), f, indent=2)
