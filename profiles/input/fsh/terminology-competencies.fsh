// IC&RC Peer Recovery domains and tasks (seed 002) and the 17 California peer support core
// competencies (seed 001). Used on Encounter (what a contact addressed) and on training records.

// One IC&RC task: code = task id, display = the task text (seed 002), domain as a property.
RuleSet: IcrcTaskConcept(code, domain, display)
* #{code} "{display}"
* #{code} ^property[0].code = #domain
* #{code} ^property[0].valueString = "{domain}"

CodeSystem: IcrcTask
Id: icrc-task
Title: "IC&RC Peer Recovery Task"
Description: "Tasks of the IC&RC Peer Recovery domains 1-4 (Advocacy; Ethical Responsibility; Mentoring and Education; Recovery/Wellness Support), coded by task id (I1..IV14). The domain of each task is given in its `domain` property."
* insert PBCodeSystem
* ^property[0].code = #domain
* ^property[0].uri = "http://peerbridge.org/fhir/CodeSystem/icrc-task#domain"
* ^property[0].description = "The IC&RC peer recovery domain the task belongs to"
* ^property[0].type = #string
* insert IcrcTaskConcept(I1, [[Domain 1: Advocacy]], [[Relate to the individual as an advocate.]])
* insert IcrcTaskConcept(I2, [[Domain 1: Advocacy]], [[Advocate within systems to promote person-centered recovery/wellness support services.]])
* insert IcrcTaskConcept(I3, [[Domain 1: Advocacy]], [[Describe the individual's rights and responsibilities.]])
* insert IcrcTaskConcept(I4, [[Domain 1: Advocacy]], [[Apply the principles of individual choice and self-determination.]])
* insert IcrcTaskConcept(I5, [[Domain 1: Advocacy]], [[Explain importance of self-advocacy as a component of recovery/wellness.]])
* insert IcrcTaskConcept(I6, [[Domain 1: Advocacy]], [[Recognize and use person-centered language.]])
* insert IcrcTaskConcept(I7, [[Domain 1: Advocacy]], [[Practice effective communication skills.]])
* insert IcrcTaskConcept(I8, [[Domain 1: Advocacy]], [[Differentiate between the types and levels of advocacy.]])
* insert IcrcTaskConcept(I9, [[Domain 1: Advocacy]], [[Collaborate with individual to identify, link, and coordinate choices with resources.]])
* insert IcrcTaskConcept(I10, [[Domain 1: Advocacy]], [[Advocate for multiple pathways to recovery/wellness.]])
* insert IcrcTaskConcept(I11, [[Domain 1: Advocacy]], [[Recognize the importance of a holistic (e.g., mind, body, spirit, environment) approach to recovery/wellness.]])
* insert IcrcTaskConcept(II1, [[Domain 2: Ethical Responsibility]], [[Recognize risk indicators that may affect the individual's welfare and safety.]])
* insert IcrcTaskConcept(II2, [[Domain 2: Ethical Responsibility]], [[Respond to personal risk indicators to assure welfare and safety.]])
* insert IcrcTaskConcept(II3, [[Domain 2: Ethical Responsibility]], [[Communicate to support network personal issues that impact ability to perform job duties.]])
* insert IcrcTaskConcept(II4, [[Domain 2: Ethical Responsibility]], [[Report suspicions of abuse or neglect to appropriate authority.]])
* insert IcrcTaskConcept(II5, [[Domain 2: Ethical Responsibility]], [[Evaluate the individual's satisfaction with their progress toward recovery/wellness goals.]])
* insert IcrcTaskConcept(II6, [[Domain 2: Ethical Responsibility]], [[Maintain documentation and collect data as required.]])
* insert IcrcTaskConcept(II7, [[Domain 2: Ethical Responsibility]], [[Adhere to responsibilities and limits of the role.]])
* insert IcrcTaskConcept(II8, [[Domain 2: Ethical Responsibility]], [[Apply fundamentals of cultural competency.]])
* insert IcrcTaskConcept(II9, [[Domain 2: Ethical Responsibility]], [[Recognize and adhere to the rules of confidentiality.]])
* insert IcrcTaskConcept(II10, [[Domain 2: Ethical Responsibility]], [[Recognize and maintain professional and personal boundaries.]])
* insert IcrcTaskConcept(II11, [[Domain 2: Ethical Responsibility]], [[Recognize and address personal and institutional biases and behaviors.]])
* insert IcrcTaskConcept(II12, [[Domain 2: Ethical Responsibility]], [[Maintain current, accurate knowledge of trends and issues related to wellness and recovery.]])
* insert IcrcTaskConcept(II13, [[Domain 2: Ethical Responsibility]], [[Recognize various crisis and emergency situations.]])
* insert IcrcTaskConcept(II14, [[Domain 2: Ethical Responsibility]], [[Use organizational/departmental chain of command to address or resolve issues.]])
* insert IcrcTaskConcept(II15, [[Domain 2: Ethical Responsibility]], [[Practice non-judgmental behavior.]])
* insert IcrcTaskConcept(III1, [[Domain 3: Mentoring and Education]], [[Serve as a role model for an individual.]])
* insert IcrcTaskConcept(III2, [[Domain 3: Mentoring and Education]], [[Recognize the importance of self-care.]])
* insert IcrcTaskConcept(III3, [[Domain 3: Mentoring and Education]], [[Establish and maintain a peer relationship rather than a hierarchical relationship.]])
* insert IcrcTaskConcept(III4, [[Domain 3: Mentoring and Education]], [[Educate through shared experiences.]])
* insert IcrcTaskConcept(III5, [[Domain 3: Mentoring and Education]], [[Support the development of healthy behavior that is based on choice.]])
* insert IcrcTaskConcept(III6, [[Domain 3: Mentoring and Education]], [[Describe the skills needed to self-advocate.]])
* insert IcrcTaskConcept(III7, [[Domain 3: Mentoring and Education]], [[Assist the individual in identifying and establishing positive relationships.]])
* insert IcrcTaskConcept(III8, [[Domain 3: Mentoring and Education]], [[Establish a respectful, trusting relationship with the individual.]])
* insert IcrcTaskConcept(III9, [[Domain 3: Mentoring and Education]], [[Demonstrate consistency by supporting individuals during ordinary and extraordinary times.]])
* insert IcrcTaskConcept(III10, [[Domain 3: Mentoring and Education]], [[Support the development of effective communication skills.]])
* insert IcrcTaskConcept(III11, [[Domain 3: Mentoring and Education]], [[Support the development of conflict resolution skills.]])
* insert IcrcTaskConcept(III12, [[Domain 3: Mentoring and Education]], [[Support the development of problem-solving skills.]])
* insert IcrcTaskConcept(III13, [[Domain 3: Mentoring and Education]], [[Apply principles of empowerment.]])
* insert IcrcTaskConcept(III14, [[Domain 3: Mentoring and Education]], [[Provide resource linkage to community supports and professional services.]])
* insert IcrcTaskConcept(IV1, [[Domain 4: Recovery/Wellness Support]], [[Assist the individual with setting goals.]])
* insert IcrcTaskConcept(IV2, [[Domain 4: Recovery/Wellness Support]], [[Recognize that there are multiple pathways to recovery/wellness.]])
* insert IcrcTaskConcept(IV3, [[Domain 4: Recovery/Wellness Support]], [[Contribute to the individual's recovery/wellness team(s).]])
* insert IcrcTaskConcept(IV4, [[Domain 4: Recovery/Wellness Support]], [[Assist the individual to identify and build on their strengths and resiliencies.]])
* insert IcrcTaskConcept(IV5, [[Domain 4: Recovery/Wellness Support]], [[Apply effective coaching techniques such as Motivational Interviewing.]])
* insert IcrcTaskConcept(IV6, [[Domain 4: Recovery/Wellness Support]], [[Recognize the stages of change.]])
* insert IcrcTaskConcept(IV7, [[Domain 4: Recovery/Wellness Support]], [[Recognize the stages of recovery/wellness.]])
* insert IcrcTaskConcept(IV8, [[Domain 4: Recovery/Wellness Support]], [[Recognize signs of distress.]])
* insert IcrcTaskConcept(IV9, [[Domain 4: Recovery/Wellness Support]], [[Develop tools for effective outreach and continued support.]])
* insert IcrcTaskConcept(IV10, [[Domain 4: Recovery/Wellness Support]], [[Assist the individual in identifying support systems.]])
* insert IcrcTaskConcept(IV11, [[Domain 4: Recovery/Wellness Support]], [[Practice a strengths-based approach to recovery/wellness.]])
* insert IcrcTaskConcept(IV12, [[Domain 4: Recovery/Wellness Support]], [[Assist the individual in identifying basic needs.]])
* insert IcrcTaskConcept(IV13, [[Domain 4: Recovery/Wellness Support]], [[Apply basic supportive group facilitation techniques.]])
* insert IcrcTaskConcept(IV14, [[Domain 4: Recovery/Wellness Support]], [[Recognize and understand the impact of trauma.]])

ValueSet: IcrcTaskVS
Id: icrc-task
Title: "IC&RC Peer Recovery Task"
Description: "All IC&RC peer recovery tasks."
* insert PBMetadata
* include codes from system IcrcTask


CodeSystem: CoreCompetency
Id: core-competency
Title: "Peer Support Core Competency"
Description: "The 17 peer support core competencies established by the State of California (seed 001): knowledge, skills and attitudes a person needs to perform peer support roles."
* insert PBCodeSystem
* #hope-recovery-wellness "The concepts of hope, recovery, and wellness"
* #advocacy "The role of advocacy"
* #consumer-family-roles "The role of consumers and family members"
* #rehabilitation-recovery-practices "Psychiatric rehabilitation skills and service delivery, and addiction recovery principles, including defined practices"
* #cultural-structural-competence "Cultural and structural competence trainings"
* #trauma-informed-care "Trauma-informed care"
* #group-facilitation "Group facilitation skills"
* #self-awareness-self-care "Self-awareness and self-care"
* #co-occurring-disorders "Co-occurring disorders of mental health and substance use"
* #conflict-resolution "Conflict resolution"
* #boundaries-ethics "Professional boundaries and ethics"
* #employment-preparation "Preparation for employment opportunities, including study and test-taking skills, application and résumé preparation, interviewing, and other potential requirements for employment"
* #safety-crisis-planning "Safety and crisis planning"
* #navigation-referral "Navigation of, and referral to, other services"
* #documentation "Documentation skills and standards"
* #confidentiality "Confidentiality"
* #digital-literacy "Digital literacy"

ValueSet: CoreCompetencyVS
Id: core-competency
Title: "Peer Support Core Competency"
Description: "All 17 peer support core competencies."
* insert PBMetadata
* include codes from system CoreCompetency
