/**
 * Extensions from IGs we cannot load offline (the SDC package is not on npm and there is no network).
 * We keep their canonical URLs on our instances and tell the validator their shape here, so their
 * values are checked instead of being rejected as unknown or silently ignored.
 * Source: Structured Data Capture IG, http://hl7.org/fhir/uv/sdc/
 */
import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';

export interface ExternalExtension {
  url: string;
  /** Allowed value[x] types. */
  valueTypes: string[];
  /** FHIRPath contexts where the extension may appear. */
  context: string[];
}

const SDC = 'http://hl7.org/fhir/uv/sdc/StructureDefinition/';

export const EXTERNAL_EXTENSIONS: readonly ExternalExtension[] = [
  { url: `${SDC}sdc-questionnaire-calculatedExpression`, valueTypes: ['Expression'], context: ['Questionnaire.item'] },
  { url: `${SDC}sdc-questionnaire-initialExpression`, valueTypes: ['Expression'], context: ['Questionnaire.item'] },
  { url: `${SDC}sdc-questionnaire-enableWhenExpression`, valueTypes: ['Expression'], context: ['Questionnaire.item'] },
  { url: `${SDC}sdc-questionnaire-observationExtract`, valueTypes: ['boolean'], context: ['Questionnaire', 'Questionnaire.item'] },
  { url: `${SDC}sdc-questionnaire-observationLinkPeriod`, valueTypes: ['Duration'], context: ['Questionnaire', 'Questionnaire.item'] },
  { url: `${SDC}sdc-questionnaire-itemExtractionContext`, valueTypes: ['Expression', 'canonical'], context: ['Questionnaire', 'Questionnaire.item'] },
  { url: `${SDC}variable`, valueTypes: ['Expression'], context: ['Questionnaire', 'Questionnaire.item'] },
  { url: `${SDC}sdc-questionnaire-itemWeight`, valueTypes: ['decimal'], context: ['Coding', 'Questionnaire.item.answerOption'] },
];

/**
 * Builds a StructureDefinition for an external extension from the base Extension definition:
 * url fixed, value[x] restricted to the listed types, no nested extensions.
 */
export function externalExtensionDefinition(baseElements: ElementDefinition[], ext: ExternalExtension): StructureDefinition {
  const elements = baseElements.map((el): ElementDefinition => {
    if (el.path === 'Extension.url') {
      return { ...el, fixedUri: ext.url };
    }
    if (el.path === 'Extension.value[x]') {
      return { ...el, min: 1, type: ext.valueTypes.map((code) => ({ code })) };
    }
    if (el.path === 'Extension.extension') {
      return { ...el, max: '0' };
    }
    return el;
  });
  return {
    resourceType: 'StructureDefinition',
    url: ext.url,
    name: ext.url.slice(ext.url.lastIndexOf('/') + 1),
    status: 'active',
    kind: 'complex-type',
    abstract: false,
    type: 'Extension',
    baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Extension',
    derivation: 'constraint',
    context: ext.context.map((expression) => ({ type: 'element', expression })),
    snapshot: { element: elements },
  };
}
