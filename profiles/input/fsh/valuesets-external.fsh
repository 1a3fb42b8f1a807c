// ValueSets that enumerate codes of external code systems (docs/domain.md#a-contact).

ValueSet: PeerEncounterClass
Id: peer-encounter-class
Title: "Peer Support Encounter Class"
Description: "Encounter classes (v3 ActCode) under which peer support contacts happen: mostly face-to-face in the community or at home, some by telephone or video (seed 003 III)."
* insert PBMetadata
* $v3-ActCode#AMB "ambulatory"
* $v3-ActCode#HH "home health"
* $v3-ActCode#FLD "field"
* $v3-ActCode#VR "virtual"

ValueSet: PeerContactMode
Id: peer-contact-mode
Title: "Peer Support Contact Mode"
Description: "How a peer support contact was made (SNOMED CT)."
* insert PBMetadata
* $SCT#453701000124103 "In-person encounter"
* $SCT#185317003 "Telephone encounter"
* $SCT#448337001 "Telemedicine consultation with patient"

ValueSet: PlaceOfService
Id: place-of-service
Title: "Peer Support Place of Service"
Description: "CMS place of service codes used for peer support claims."
* insert PBMetadata
* $POS#02 "Telehealth Provided Other than in Patient’s Home"
* $POS#10 "Telehealth Provided in Patient’s Home"
* $POS#11 "Office"
* $POS#12 "Home"
* $POS#53 "Community Mental Health Center"
* $POS#99 "Other Place of Service"
