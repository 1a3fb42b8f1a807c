"""Builds the valid PeerBridge examples (one person's episode) from the profile package."""
import copy
import json
import os
import uuid
from html import escape

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PKG = os.path.join(ROOT, 'profiles', 'package')
PB = 'http://peerbridge.org/fhir'
SD = PB + '/StructureDefinition/'
CS = PB + '/CodeSystem/'
HCPCS = 'http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets'
SCT = 'http://snomed.info/sct'
POS = 'https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set'
NUCC = 'http://nucc.org/provider-taxonomy'
ACT = 'http://terminology.hl7.org/CodeSystem/v3-ActCode'
UCUM = 'http://unitsofmeasure.org'
NPI = 'http://hl7.org/fhir/sid/us-npi'
MRN = 'http://riverbend-ccbhc.example.org/fhir/sid/mrn'
TZ = '-05:00'


def load(name):
    with open(os.path.join(PKG, name)) as f:
        return json.load(f)


def cs_display(cs_id):
    out = {}

    def walk(concepts):
        for c in concepts or []:
            out[c['code']] = c.get('display')
            walk(c.get('concept'))
    walk(load(f'CodeSystem-{cs_id}.json').get('concept'))
    return out


DISPLAY = {k: cs_display(k) for k in [
    'peer-intervention', 'social-support-type', 'icrc-task', 'peer-credential', 'peer-referral-reason',
    'peerbridge-codes', 'eligibility-criterion', 'eligibility-result', 'eligibility-review-type',
    'criterion-status', 'recovery-capital-agreement', 'supervisor-competency-rating']}

IRC = load('Questionnaire-idaho-recovery-capital-scale.json')
ELIG = load('Questionnaire-peer-support-eligibility-review.json')
SUP = load('Questionnaire-supervisor-peer-workers-self-assessment.json')


def local(cs_id, code):
    return {'system': CS + cs_id, 'code': code, 'display': DISPLAY[cs_id][code]}


def cc(coding, text=None):
    out = {'coding': [coding]}
    if text:
        out['text'] = text
    return out


def narrative(*paragraphs):
    body = ''.join(f'<p>{escape(p, quote=False)}</p>' for p in paragraphs)
    return {'status': 'generated', 'div': f'<div xmlns="http://www.w3.org/1999/xhtml">{body}</div>'}


def ref(rtype, rid, display=None):
    r = {'reference': f'{rtype}/{rid}'}
    if display:
        r['display'] = display
    return r


def profiled(rtype, rid, profile):
    return {'resourceType': rtype, 'id': rid, 'meta': {'profile': [SD + profile]}}


# --- people and places ---------------------------------------------------------------------------

PATIENT_ID = 'dana-whitfield'
ORG_ID = 'riverbend-ccbhc'
PSS_ID = 'marcus-lee'
PSS_ROLE_ID = 'marcus-lee-peer-specialist'
SUP_ID = 'ana-ortiz'
SUP_ROLE_ID = 'ana-ortiz-supervisor'
CLINIC_ID = 'riverbend-main-clinic'
COMMUNITY_ID = 'eastside-community-center'

PAT = ref('Patient', PATIENT_ID, 'Dana Whitfield')
ORG = ref('Organization', ORG_ID, 'Riverbend CCBHC')
PSS = ref('Practitioner', PSS_ID, 'Marcus Lee, CPS')
PSS_ROLE = ref('PractitionerRole', PSS_ROLE_ID, 'Marcus Lee, Peer Specialist at Riverbend CCBHC')
SUPV = ref('Practitioner', SUP_ID, 'Ana Ortiz, LCSW')
SUP_ROLE = ref('PractitionerRole', SUP_ROLE_ID, 'Ana Ortiz, LCSW, clinical supervisor at Riverbend CCBHC')

ADDRESS_ORG = {'use': 'work', 'line': ['410 River Road'], 'city': 'Millbrook', 'state': 'OH', 'postalCode': '43001', 'country': 'US'}


def patient():
    r = profiled('Patient', PATIENT_ID, 'peerbridge-patient')
    r['text'] = narrative('Dana Whitfield, female, born 1986-09-03. Receives peer support services at Riverbend CCBHC.')
    r['identifier'] = [{'use': 'usual', 'system': MRN, 'value': 'RB-204117'}]
    r['active'] = True
    r['name'] = [{'use': 'official', 'family': 'Whitfield', 'given': ['Dana', 'Marie']}]
    r['telecom'] = [{'system': 'phone', 'value': '555-0142', 'use': 'mobile'}]
    r['gender'] = 'female'
    r['birthDate'] = '1986-09-03'
    r['address'] = [{'use': 'home', 'line': ['27 Alder Street', 'Apt 3'], 'city': 'Millbrook', 'state': 'OH', 'postalCode': '43001', 'country': 'US'}]
    r['communication'] = [{'language': cc({'system': 'urn:ietf:bcp:47', 'code': 'en-US', 'display': 'English (United States)'}), 'preferred': True}]
    r['managingOrganization'] = ORG
    return r


def organization():
    r = profiled('Organization', ORG_ID, 'peerbridge-organization')
    r['text'] = narrative('Riverbend CCBHC, a Certified Community Behavioral Health Clinic in Millbrook, Ohio, offering peer support services.')
    r['identifier'] = [{'system': NPI, 'value': '1467583922'}]
    r['active'] = True
    r['type'] = [cc({'system': 'http://terminology.hl7.org/CodeSystem/organization-type', 'code': 'prov', 'display': 'Healthcare Provider'})]
    r['name'] = 'Riverbend CCBHC'
    r['alias'] = ['Riverbend Certified Community Behavioral Health Clinic']
    r['telecom'] = [{'system': 'phone', 'value': '555-0100', 'use': 'work'}]
    r['address'] = [ADDRESS_ORG]
    return r


def location(rid, name, desc, pos_code, pos_display, address, physical):
    r = {'resourceType': 'Location', 'id': rid}
    r['text'] = narrative(f'{name}: {desc}')
    r['status'] = 'active'
    r['name'] = name
    r['description'] = desc
    r['mode'] = 'instance'
    r['type'] = [cc({'system': 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', 'code': physical[0], 'display': physical[1]})]
    r['address'] = address
    r['managingOrganization'] = ORG
    return r


def clinic():
    return location(CLINIC_ID, 'Riverbend CCBHC Main Street Clinic', 'the community mental health center where most peer support contacts take place.',
                    '53', 'Community Mental Health Center', ADDRESS_ORG, ('OF', 'Outpatient facility'))


def community_center():
    return location(COMMUNITY_ID, 'Eastside Community Center', 'community venue where the Riverbend peer-led recovery group meets on Tuesday evenings.',
                    '99', 'Other Place of Service',
                    {'use': 'work', 'line': ['88 Maple Avenue'], 'city': 'Millbrook', 'state': 'OH', 'postalCode': '43002', 'country': 'US'},
                    ('COMM', 'Community Location'))


def peer_specialist():
    r = profiled('Practitioner', PSS_ID, 'peer-specialist')
    r['text'] = narrative('Marcus Lee, Certified Peer Specialist (Ohio, since 2021-03-15). Completed peer specialist training on 2021-01-29.')
    r['extension'] = [{'url': SD + 'training-completion', 'valueDate': '2021-01-29'}]
    r['identifier'] = [{'system': NPI, 'value': '1093817462'}]
    r['active'] = True
    r['name'] = [{'use': 'official', 'family': 'Lee', 'given': ['Marcus'], 'suffix': ['CPS']}]
    r['telecom'] = [{'system': 'phone', 'value': '555-0117', 'use': 'work'}]
    r['gender'] = 'male'
    r['qualification'] = [{
        'identifier': [{'system': 'http://mha.ohio.gov/fhir/sid/peer-certification', 'value': 'CPS-2021-08812'}],
        'code': cc(local('peer-credential', 'certified-peer-specialist')),
        'period': {'start': '2021-03-15', 'end': '2027-03-14'},
        'issuer': {'display': 'Ohio Department of Mental Health and Addiction Services'},
    }]
    return r


def peer_specialist_role():
    r = profiled('PractitionerRole', PSS_ROLE_ID, 'peer-specialist-role')
    r['text'] = narrative('Marcus Lee works as a Peer Specialist (NUCC 175T00000X) at Riverbend CCBHC, supervised by Ana Ortiz, LCSW.')
    r['extension'] = [{'url': SD + 'supervisor', 'valueReference': SUP_ROLE}]
    r['active'] = True
    r['period'] = {'start': '2021-04-01'}
    r['practitioner'] = PSS
    r['organization'] = ORG
    r['code'] = [cc({'system': NUCC, 'code': '175T00000X', 'display': 'Peer Specialist'})]
    r['location'] = [ref('Location', CLINIC_ID, 'Riverbend CCBHC Main Street Clinic')]
    r['telecom'] = [{'system': 'phone', 'value': '555-0117', 'use': 'work'}]
    return r


def supervisor():
    r = profiled('Practitioner', SUP_ID, 'peerbridge-practitioner')
    r['text'] = narrative('Ana Ortiz, LCSW, licensed clinical social worker who supervises the peer specialists at Riverbend CCBHC.')
    r['identifier'] = [{'system': NPI, 'value': '1528406717'}]
    r['active'] = True
    r['name'] = [{'use': 'official', 'family': 'Ortiz', 'given': ['Ana'], 'suffix': ['LCSW']}]
    r['gender'] = 'female'
    r['qualification'] = [{
        'code': {'text': 'Licensed Independent Social Worker (LISW)'},
        'issuer': {'display': 'Ohio Counselor, Social Worker and Marriage and Family Therapist Board'},
    }]
    return r


def supervisor_role():
    r = profiled('PractitionerRole', SUP_ROLE_ID, 'peerbridge-practitioner-role')
    r['text'] = narrative('Ana Ortiz, LCSW: clinical supervisor of the peer support team at Riverbend CCBHC.')
    r['active'] = True
    r['practitioner'] = SUPV
    r['organization'] = ORG
    r['code'] = [cc({'system': NUCC, 'code': '1041C0700X', 'display': 'Clinical Social Worker'}, 'Clinical supervisor of peer workers')]
    r['telecom'] = [{'system': 'phone', 'value': '555-0100', 'use': 'work'}]
    return r


# --- the episode -----------------------------------------------------------------------------------

REFERRAL_ID = 'dana-whitfield-peer-referral'
EPISODE_ID = 'dana-whitfield-peer-episode'
ELIG_QR_ID = 'dana-whitfield-admission-review'
ELIG_OBS_ID = 'dana-whitfield-admission-determination'
PLAN_ID = 'dana-whitfield-recovery-plan'


def referral():
    r = profiled('ServiceRequest', REFERRAL_ID, 'peer-support-referral')
    r['text'] = narrative('Referral of Dana Whitfield to peer support at Riverbend CCBHC by Ana Ortiz, LCSW, on 2026-09-01: '
                          'new to the mental health system and socially isolated since moving to Millbrook.')
    r['status'] = 'completed'
    r['intent'] = 'order'
    r['category'] = [cc({'system': SCT, 'code': '410606002', 'display': 'Social service procedure'})]
    r['code'] = {'coding': [{'system': SCT, 'code': '461481000124109', 'display': 'Referral to peer support'},
                            {'system': 'https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets', 'code': 'H0038',
                             'display': 'Self-help/peer services, per 15 minutes'}]}
    r['subject'] = PAT
    r['occurrencePeriod'] = {'start': '2026-09-08'}
    r['authoredOn'] = '2026-09-01T11:20:00' + TZ
    r['requester'] = SUP_ROLE
    r['performerType'] = cc({'system': NUCC, 'code': '175T00000X', 'display': 'Peer Specialist'})
    r['performer'] = [ORG]
    r['reasonCode'] = [cc(local('peer-referral-reason', 'new-to-system')),
                       {'coding': [local('peer-referral-reason', 'socially-isolated'), {'system': SCT, 'code': '422650009', 'display': 'Social isolation'}]},
                       cc(local('peer-referral-reason', 'expresses-interest'))]
    r['note'] = [{'text': 'Dana asked to talk with someone who has been through recovery herself.'}]
    return r


def episode():
    r = profiled('EpisodeOfCare', EPISODE_ID, 'peer-support-episode')
    r['text'] = narrative('Peer support episode of Dana Whitfield at Riverbend CCBHC, active since 2026-09-08; peer specialist Marcus Lee.')
    r['status'] = 'active'
    r['statusHistory'] = [{'status': 'waitlist', 'period': {'start': '2026-09-01', 'end': '2026-09-08'}},
                          {'status': 'active', 'period': {'start': '2026-09-08'}}]
    r['type'] = [cc(local('peerbridge-codes', 'peer-support'))]
    r['patient'] = PAT
    r['managingOrganization'] = ORG
    r['period'] = {'start': '2026-09-08'}
    r['referralRequest'] = [ref('ServiceRequest', REFERRAL_ID)]
    r['careManager'] = PSS
    return r


def eligibility_response():
    r = profiled('QuestionnaireResponse', ELIG_QR_ID, 'eligibility-review-response')
    r['text'] = narrative('Admission review of Dana Whitfield on 2026-09-08 by Marcus Lee: service criteria B, C and F met; no exclusion criterion met.')
    r['questionnaire'] = ELIG['url']
    r['status'] = 'completed'
    r['subject'] = PAT
    r['authored'] = '2026-09-08T10:15:00' + TZ
    r['author'] = PSS_ROLE
    r['source'] = PAT
    status = {'service-A': 'not-met', 'service-B': 'met', 'service-C': 'met', 'service-D': 'not-met', 'service-E': 'unknown',
              'service-F': 'met', 'service-G': 'not-met', 'exclusion-A': 'not-met', 'exclusion-B': 'not-met'}
    items = [{'linkId': 'review-type', 'text': 'Review type',
              'answer': [{'valueCoding': local('eligibility-review-type', 'admission')}]}]
    for group in ELIG['item']:
        if group['linkId'] not in ('service-criteria', 'exclusion-criteria'):
            continue
        items.append({'linkId': group['linkId'], 'text': group['text'],
                      'item': [{'linkId': it['linkId'], 'text': it['text'],
                                'answer': [{'valueCoding': local('criterion-status', status[it['linkId']])}]}
                               for it in group['item']]})
    r['item'] = items
    return r


def eligibility_determination():
    r = profiled('Observation', ELIG_OBS_ID, 'eligibility-determination')
    r['text'] = narrative('Admission review 2026-09-08: Dana Whitfield is eligible for peer support (service criteria B, C and F met; no exclusion criterion met).')
    r['status'] = 'final'
    r['category'] = [cc({'system': 'http://terminology.hl7.org/CodeSystem/observation-category', 'code': 'survey', 'display': 'Survey'})]
    r['code'] = cc(local('peerbridge-codes', 'eligibility-determination'))
    r['subject'] = PAT
    r['effectiveDateTime'] = '2026-09-08T10:15:00' + TZ
    r['issued'] = '2026-09-08T10:40:00' + TZ
    r['performer'] = [PSS_ROLE]
    r['valueCodeableConcept'] = cc(local('eligibility-result', 'eligible'))
    comps = [{'code': cc(local('peerbridge-codes', 'review-type')), 'valueCodeableConcept': cc(local('eligibility-review-type', 'admission'))}]
    # One component per deciding criterion: the criterion as code, its status as value and as interpretation (POS met, NEG not met),
    # as src/fhir/observation.ts writes it.
    interpretation = {'met': {'code': 'POS', 'display': 'Positive'}, 'not-met': {'code': 'NEG', 'display': 'Negative'}}
    for c, status in [('service-B', 'met'), ('service-C', 'met'), ('service-F', 'met'), ('exclusion-A', 'not-met'), ('exclusion-B', 'not-met')]:
        comps.append({'code': cc(local('eligibility-criterion', c)), 'valueCodeableConcept': cc(local('criterion-status', status)),
                      'interpretation': [cc({'system': 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', **interpretation[status]})]})
    r['component'] = comps
    r['derivedFrom'] = [ref('QuestionnaireResponse', ELIG_QR_ID)]
    return r


# --- contacts and charges ------------------------------------------------------------------------

def units(minutes):
    """1 unit per 15 minutes; a remainder of 8 minutes or more counts as a unit (docs/domain.md#billing-units-hcpcs-h0038)."""
    whole, rest = divmod(minutes, 15)
    return whole + (1 if rest >= 8 else 0)


CONTACTS = [
    dict(id='dana-whitfield-contact-2026-09-15', start='2026-09-15T10:00:00', end='2026-09-15T10:52:00', minutes=52,
         cls=('AMB', 'ambulatory'), mode=('453701000124103', 'In-person encounter'), pos=('53', 'Community Mental Health Center'),
         location=(CLINIC_ID, 'Riverbend CCBHC Main Street Clinic'), group=False,
         interventions=['self-help', 'pre-crisis-support'], supports=['emotional', 'informational'], tasks=['I4', 'IV3'],
         summary='In-person peer support contact at the Main Street Clinic (52 minutes): started a WRAP plan and talked through local recovery groups.'),
    dict(id='dana-whitfield-contact-2026-09-22', start='2026-09-22T14:00:00', end='2026-09-22T14:23:00', minutes=23,
         cls=('VR', 'virtual'), mode=('185317003', 'Telephone encounter'), pos=('10', "Telehealth Provided in Patient’s Home"),
         location=None, group=False,
         interventions=['individual-advocacy'], supports=['instrumental'], tasks=['I5'],
         summary='Telephone check-in (23 minutes): Dana practised what to say at her prescriber appointment and Marcus helped her book it.'),
    dict(id='dana-whitfield-contact-2026-09-29', start='2026-09-29T18:00:00', end='2026-09-29T19:30:00', minutes=90,
         cls=('FLD', 'field'), mode=('453701000124103', 'In-person encounter'), pos=('99', 'Other Place of Service'),
         location=(COMMUNITY_ID, 'Eastside Community Center'), group=True,
         interventions=['self-help', 'education-volunteering-employment'], supports=['affiliational', 'emotional'], tasks=['III2', 'IV7'],
         summary='Peer-led recovery group at the Eastside Community Center (90 minutes, group contact): shared volunteering leads.'),
]


def encounter(c):
    r = profiled('Encounter', c['id'], 'peer-support-encounter')
    r['text'] = narrative(c['summary'], f"Peer specialist: Marcus Lee, CPS. {units(c['minutes'])} billing unit(s) of H0038.")
    ext = [{'url': SD + 'peer-intervention', 'valueCodeableConcept': cc(local('peer-intervention', i))} for i in c['interventions']]
    ext += [{'url': SD + 'social-support-type', 'valueCodeableConcept': cc(local('social-support-type', s))} for s in c['supports']]
    ext += [{'url': SD + 'icrc-task', 'valueCodeableConcept': cc(local('icrc-task', t))} for t in c['tasks']]
    ext.append({'url': SD + 'place-of-service', 'valueCodeableConcept': cc({'system': POS, 'code': c['pos'][0], 'display': c['pos'][1]})})
    if c['group']:
        ext.append({'url': SD + 'group-contact', 'valueBoolean': True})
    r['extension'] = ext
    r['status'] = 'finished'
    r['class'] = {'system': ACT, 'code': c['cls'][0], 'display': c['cls'][1]}
    r['type'] = [cc({'system': HCPCS, 'code': 'H0038', 'display': 'Self-help/peer services, per 15 minutes'}),
                 cc({'system': SCT, 'code': c['mode'][0], 'display': c['mode'][1]})]
    r['subject'] = PAT
    r['episodeOfCare'] = [ref('EpisodeOfCare', EPISODE_ID)]
    r['basedOn'] = [ref('ServiceRequest', REFERRAL_ID)]
    r['participant'] = [{'type': [cc({'system': 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', 'code': 'PPRF', 'display': 'primary performer'})],
                         'individual': PSS_ROLE}]
    r['period'] = {'start': c['start'] + TZ, 'end': c['end'] + TZ}
    r['length'] = {'value': c['minutes'], 'unit': 'min', 'system': UCUM, 'code': 'min'}
    if c['location']:
        r['location'] = [{'location': ref('Location', *c['location']), 'status': 'completed'}]
    r['serviceProvider'] = ORG
    return r


def charge(c):
    n = units(c['minutes'])
    rid = c['id'].replace('contact', 'charge')
    r = profiled('ChargeItem', rid, 'peer-support-charge')
    group = ' (group contact, modifier HQ)' if c['group'] else ''
    r['text'] = narrative(f"H0038 peer support{group}: {n} unit(s) for the {c['minutes']}-minute contact on {c['start'][:10]}.")
    r['status'] = 'billable'
    r['code'] = cc({'system': HCPCS, 'code': 'H0038', 'display': 'Self-help/peer services, per 15 minutes'})
    r['subject'] = PAT
    r['context'] = ref('Encounter', c['id'])
    r['occurrencePeriod'] = {'start': c['start'] + TZ, 'end': c['end'] + TZ}
    r['performer'] = [{'actor': PSS_ROLE}]
    r['performingOrganization'] = ORG
    r['quantity'] = {'value': n}
    r['enterer'] = PSS_ROLE
    r['enteredDate'] = c['end'][:11] + '20:00:00' + TZ
    if c['group']:
        r['note'] = [{'text': 'Group contact: bill H0038 with modifier HQ.'}]
    return r


# --- plan and goals ------------------------------------------------------------------------------

GOALS = [
    ('dana-whitfield-goal-support-group', 'Find a recovery support group I like and go every week', '2026-12-15',
     'Wants to feel less alone in recovery.'),
    ('dana-whitfield-goal-volunteering', 'Get back to volunteering at the food bank two mornings a week', '2027-01-31',
     'Volunteering used to give structure to the week.'),
    ('dana-whitfield-goal-wrap', 'Finish my WRAP plan and share it with my sister', '2026-10-31',
     'Pre-crisis support: a written plan for hard days.'),
]


def goal(gid, text, due, note):
    r = profiled('Goal', gid, 'recovery-goal')
    r['text'] = narrative(f'Goal of Dana Whitfield, in her words: "{text}" (due {due}).')
    r['lifecycleStatus'] = 'active'
    r['achievementStatus'] = cc({'system': 'http://terminology.hl7.org/CodeSystem/goal-achievement', 'code': 'in-progress', 'display': 'In Progress'})
    r['description'] = {'text': text}
    r['subject'] = PAT
    r['startDate'] = '2026-09-15'
    r['target'] = [{'dueDate': due}]
    r['expressedBy'] = PAT
    r['note'] = [{'text': note}]
    return r


def plan():
    r = profiled('CarePlan', PLAN_ID, 'recovery-plan')
    r['text'] = narrative('Recovery plan of Dana Whitfield, made with peer specialist Marcus Lee on 2026-09-15: three goals of her own '
                          '(support group, volunteering, WRAP plan), weekly peer support contacts; WRAP plan in progress; next review 2026-12-08.')
    r['extension'] = [{'url': SD + 'crisis-plan-present', 'valueBoolean': True},
                      {'url': SD + 'next-review-date', 'valueDate': '2026-12-08'}]
    r['status'] = 'active'
    r['intent'] = 'plan'
    r['category'] = [cc({'system': 'http://hl7.org/fhir/us/core/CodeSystem/careplan-category', 'code': 'assess-plan',
                         'display': 'Assessment and Plan of Treatment'}), cc(local('peerbridge-codes', 'peer-recovery-plan'))]
    r['title'] = "Dana's recovery plan"
    r['subject'] = PAT
    r['period'] = {'start': '2026-09-15', 'end': '2027-03-15'}
    r['created'] = '2026-09-15'
    r['author'] = PAT
    r['contributor'] = [PAT, PSS_ROLE]
    r['goal'] = [ref('Goal', g[0]) for g in GOALS]
    r['activity'] = [{'detail': {
        'kind': 'ServiceRequest',
        'code': cc({'system': HCPCS, 'code': 'H0038', 'display': 'Self-help/peer services, per 15 minutes'}),
        'goal': [ref('Goal', g[0]) for g in GOALS],
        'status': 'in-progress',
        'scheduledString': 'Weekly, in person or by telephone',
        'performer': [PSS_ROLE],
        'description': 'Weekly peer support contacts with Marcus Lee',
    }}]
    return r


# --- recovery capital ----------------------------------------------------------------------------

RC = [
    dict(qr='dana-whitfield-irc-2026-09-15', obs='dana-whitfield-irc-total-2026-09-15', when='2026-09-15T10:30:00',
         encounter='dana-whitfield-contact-2026-09-15',
         ratings=[4, 1, 2, 2, 1, 2, 1, 3, 2, 2, 4, 1, 3, 4, 3, 1, 1, 1, 5, 2, 3, 2, 2],
         areas=['Friends who support my recovery', 'A written plan for my recovery', 'A local recovery support group',
                'Mental health plan', 'Feeling part of my community'],
         activities=['Call the Tuesday peer group leader', 'Write the first page of my WRAP plan', 'Walk to the library twice'],
         helpers=['Marcus (peer specialist)', 'My sister Carla']),
    dict(qr='dana-whitfield-irc-2026-10-27', obs='dana-whitfield-irc-total-2026-10-27', when='2026-10-27T10:30:00',
         encounter=None,
         ratings=[4, 1, 3, 3, 2, 2, 4, 3, 3, 4, 4, 1, 4, 4, 5, 4, 2, 1, 5, 3, 4, 3, 2],
         areas=['A sponsor or mentor', 'Volunteering', 'Daily recovery rituals', 'Friends who support my recovery', 'Physical health'],
         activities=['Ask about volunteering shifts at the food bank', 'Go to the Tuesday group', 'Morning walk three times'],
         helpers=['Marcus (peer specialist)', 'Tuesday group members', 'My sister Carla']),
]


def irc_option(item, rating):
    for o in item['answerOption']:
        if o['valueCoding']['code'] == str(rating):
            return copy.deepcopy(o['valueCoding'])
    raise KeyError(rating)


def rc_response(a):
    r = profiled('QuestionnaireResponse', a['qr'], 'recovery-capital-response')
    total = sum(a['ratings'])
    r['text'] = narrative(f"Idaho Recovery Capital Scale completed by Dana Whitfield on {a['when'][:10]}: total {total} of 115.",
                          'Areas to increase: ' + '; '.join(a['areas']) + '.')
    r['questionnaire'] = IRC['url']
    r['status'] = 'completed'
    r['subject'] = PAT
    if a['encounter']:
        r['encounter'] = ref('Encounter', a['encounter'])
    r['authored'] = a['when'] + TZ
    r['author'] = PAT
    r['source'] = PAT
    items = []
    irc_items = [i for i in IRC['item'] if i['linkId'].startswith('irc-')]
    assert len(irc_items) == 23
    for it, rating in zip(irc_items, a['ratings']):
        items.append({'linkId': it['linkId'], 'text': it['text'], 'answer': [{'valueCoding': irc_option(it, rating)}]})
    by = {i['linkId']: i for i in IRC['item']}
    items.append({'linkId': 'total', 'text': by['total']['text'], 'answer': [{'valueInteger': total}]})
    for link, vals in [('areas-to-increase', a['areas']), ('next-week-activities', a['activities']), ('helpers', a['helpers'])]:
        items.append({'linkId': link, 'text': by[link]['text'], 'answer': [{'valueString': v} for v in vals]})
    r['item'] = items
    return r


def rc_total(a):
    total = sum(a['ratings'])
    assert 23 <= total <= 115
    r = profiled('Observation', a['obs'], 'recovery-capital-total')
    r['text'] = narrative(f"Idaho Recovery Capital Scale total for Dana Whitfield on {a['when'][:10]}: {total} (range 23-115).")
    r['status'] = 'final'
    r['category'] = [cc({'system': 'http://terminology.hl7.org/CodeSystem/observation-category', 'code': 'survey', 'display': 'Survey'}),
                     cc({'system': 'http://hl7.org/fhir/us/core/CodeSystem/us-core-category', 'code': 'sdoh', 'display': 'SDOH'})]
    r['code'] = cc(local('peerbridge-codes', 'recovery-capital-total'))
    r['subject'] = PAT
    if a['encounter']:
        r['encounter'] = ref('Encounter', a['encounter'])
    r['effectiveDateTime'] = a['when'] + TZ
    r['performer'] = [PAT]
    r['valueInteger'] = total
    r['derivedFrom'] = [ref('QuestionnaireResponse', a['qr'])]
    return r


# --- supervisor self-assessment ----------------------------------------------------------------

def supervisor_response():
    r = profiled('QuestionnaireResponse', 'ana-ortiz-supervisor-self-assessment-2026-10', 'supervisor-self-assessment-response')
    ratings = [4, 5, 5, 3, 4, 4, 3, 3, 4, 3, 5]
    r['text'] = narrative('Supervisor of Peer Workers Self-Assessment completed by Ana Ortiz, LCSW, on 2026-10-05. '
                          'Learning focus: balancing supervision functions, professional goals and feedback.')
    r['questionnaire'] = SUP['url']
    r['status'] = 'completed'
    r['subject'] = SUP_ROLE
    r['authored'] = '2026-10-05T16:00:00' + TZ
    r['author'] = SUP_ROLE
    items = []
    for it, rating in zip(SUP['item'], ratings):
        opt = next(o['valueCoding'] for o in it['answerOption'] if o['valueCoding']['code'] == str(rating))
        items.append({'linkId': it['linkId'], 'text': it['text'], 'answer': [{'valueCoding': copy.deepcopy(opt)}]})
    assert len(items) == 11
    r['item'] = items
    return r


# --- everything -----------------------------------------------------------------------------------

def episode_resources():
    """All resources of Dana's episode, in Bundle order."""
    out = [patient(), organization(), clinic(), community_center(), supervisor(), supervisor_role(), peer_specialist(),
           peer_specialist_role(), referral(), episode(), eligibility_response(), eligibility_determination()]
    out += [goal(*g) for g in GOALS]
    out.append(plan())
    for c in CONTACTS:
        out.append(encounter(c))
    for c in CONTACTS:
        out.append(charge(c))
    for a in RC:
        out += [rc_response(a), rc_total(a)]
    return out


def bundle(resources):
    entries = []
    for r in resources:
        key = f"{r['resourceType']}/{r['id']}"
        entries.append({'fullUrl': 'urn:uuid:' + str(uuid.uuid5(uuid.NAMESPACE_URL, 'http://peerbridge.org/examples/' + key)),
                        'resource': r, 'request': {'method': 'PUT', 'url': key}})
    return {'resourceType': 'Bundle', 'id': 'peer-support-episode',
            'meta': {'lastUpdated': '2026-11-02T09:00:00' + TZ},
            'type': 'transaction', 'entry': entries}


def all_valid():
    """file name -> resource for examples/valid."""
    files = {}
    resources = episode_resources() + [supervisor_response()]
    for r in resources:
        files[f"{r['resourceType']}-{r['id']}.json"] = r
    files['Bundle-peer-support-episode.json'] = bundle(episode_resources())
    return files


def write(dirname, files):
    os.makedirs(dirname, exist_ok=True)
    for name, content in files.items():
        with open(os.path.join(dirname, name), 'w') as f:
            json.dump(content, f, indent=2, ensure_ascii=False)
            f.write('\n')


if __name__ == '__main__':
    write(os.path.join(ROOT, 'examples', 'valid'), all_valid())
