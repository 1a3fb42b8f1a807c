/**
 * Extensions: the definition an extension's url names (unknown ones reported, HL7's and
 * PeerBridge's as errors, others as warnings), and whether its definition's context allows it
 * where it sits. The extension's content is then walked against its definition by the walker;
 * ext-1 is an invariant (invariants.ts).
 * https://hl7.org/fhir/R4/extensibility.html, https://hl7.org/fhir/R4/defining-extensions.html#context
 *
 * Cache: `contextCache`, context verdicts per known extension definition (weak: dies with the
 * definition), then per holder element path and type, which come from the schemas: bounded by
 * the loaded definitions.
 */
import type { InternalSchemaElement } from '@medplum/core';
import type { StructureDefinition } from '@medplum/fhirtypes';
import type { LoadedProfile } from '../definitions';
import { type CheckContext, HL7_SD, type Json } from './context';

/**
 * Extension contexts the R4 core package itself does not follow: its snapshots put
 * structuredefinition-fhir-type on ElementDefinition.type although the context says
 * ElementDefinition.type.code. The reference validator accepts this; so do we.
 */
const EXTRA_CONTEXTS: Record<string, string[]> = {
  'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type': ['ElementDefinition.type'],
};

/**
 * Extension URLs whose definitions may be unknown without making the resource invalid (a warning):
 * the example domains and DICOM's, which the reference validator also lets pass (its
 * `allowUnknownExtension`, with example URLs allowed as the FHIR build allows them).
 */
const UNCHECKED_EXTENSION_DOMAINS = /^https?:\/\/([a-z0-9-]+\.)*(example\.(org|com|net)|acme\.com|nema\.org)([/:#?]|$)/i;

/**
 * The extension's definition (profile), reporting one that cannot be found:
 * - a relative url inside a complex extension names one of the parent's sub-extensions: matched by
 *   the parent's `extension` slices (whose rules then apply), so there is no definition of its own
 *   to find; a url that is none of them is an error;
 * - an absolute url no loaded definition answers (base R4 with its core extensions, PeerBridge's,
 *   the loaded packages and their dependencies) is an error, as the reference validator's "The
 *   extension ... could not be found so is not allowed here"; a warning instead when it belongs to a
 *   dependency of a loaded package that is missing (naming the package), or to an example domain.
 * @param sub - set when the extension sits in another extension: the holder's definition when it
 * is known (a relative url in an unknown extension is not reported again), and whether the value
 * fell in one of the holder's `extension` slices
 */
export function extensionDefinition(
  ctx: CheckContext,
  obj: Json,
  path: string,
  el: InternalSchemaElement,
  sub: { parent: LoadedProfile | undefined; inSlice: boolean } | undefined,
): LoadedProfile | undefined {
  const url = obj.url;
  if (typeof url !== 'string' || !url) {
    return undefined; // the missing url is reported as a missing required element
  }
  if (sub && !url.includes(':')) {
    if (sub.parent && !sub.inSlice) {
      ctx.report('error', 'structure', `Sub-extension url '${url}' is not defined by the extension ${sub.parent.url}`, path);
    }
    return undefined;
  }
  const declared = el.type.find((t) => t.code === 'Extension')?.profile?.[0];
  const def = ctx.defs.profile(url) ?? (declared ? ctx.defs.profile(declared) : undefined);
  if (def && def.sd.type === 'Extension') {
    return def;
  }
  const missing = def ? undefined : ctx.defs.missingDependencyFor(url);
  if (def) {
    ctx.report('error', 'extension', `'${url}' is not an extension definition (it defines ${def.sd.type}), so it cannot be used as an extension url`, path);
  } else if (missing) {
    ctx.report(
      'warning',
      'extension',
      `Extension '${url}' has not been checked because it is unknown: it is most likely defined in package ${missing.name}#${missing.version} (a dependency of ${missing.neededBy}), which is not loaded`,
      path,
    );
  } else if (UNCHECKED_EXTENSION_DOMAINS.test(url)) {
    ctx.report('warning', 'extension', `Unknown extension '${url}': its content is not checked`, path);
  } else {
    const broken = ctx.defs.brokenDefinitions.get(url);
    ctx.report(
      'error',
      'extension',
      `Unknown extension '${url}': the extension could not be found so is not allowed here${broken ? ` (its definition could not be used: ${broken})` : ''}`,
      path,
    );
  }
  return undefined;
}

/** A context check's outcome: null when the extension may sit there. */
type ContextVerdict = { severity: 'error' | 'warning'; text: string } | null;

const contextCache = new WeakMap<LoadedProfile, Map<string, Map<string | undefined, ContextVerdict>>>();

/** Context verdicts of one extension definition, by holder element path and type. */
function contextVerdicts(def: LoadedProfile): Map<string, Map<string | undefined, ContextVerdict>> {
  let m = contextCache.get(def);
  if (!m) {
    m = new Map();
    contextCache.set(def, m);
  }
  return m;
}

/**
 * Checks the context of each extension in an `extension` or `modifierExtension` array, for every
 * known definition (base R4's, PeerBridge's, the loaded packages').
 * @param holderUrl - the url of the holder when it is itself an extension (contexts of type `extension`)
 */
export function checkExtensionContexts(
  ctx: CheckContext,
  list: unknown[],
  path: string,
  key: string,
  ctxPath: string,
  ctxType: string | undefined,
  holderUrl: unknown,
): void {
  for (let i = 0; i < list.length; i++) {
    if (i in list) {
      checkExtensionContext(ctx, list[i], path, key, i, ctxPath, ctxType, holderUrl);
    }
  }
}

/**
 * An extension may only sit where its definition's context allows. The holder is given by its
 * element path and type (`ctxType` undefined for a resource). Verdicts are kept per known
 * definition, holder path and type.
 */
function checkExtensionContext(
  ctx: CheckContext,
  ext: unknown,
  path: string,
  key: string,
  i: number,
  ctxPath: string,
  ctxType: string | undefined,
  holderUrl: unknown,
): void {
  const url = (ext as Json | null)?.url;
  if (typeof url !== 'string') {
    return;
  }
  const def = ctx.defs.profile(url);
  const contexts = def?.sd.context;
  if (!def || !contexts?.length) {
    return;
  }
  let verdict: ContextVerdict;
  if (typeof holderUrl === 'string' && contexts.some((c) => c.type === 'extension' && c.expression === holderUrl)) {
    verdict = null; // a context of type extension: the holder is that extension
  } else if (url === def.url) {
    const cache = contextVerdicts(def);
    let byType = cache.get(ctxPath);
    if (!byType) {
      byType = new Map();
      cache.set(ctxPath, byType);
    }
    let v = byType.get(ctxType);
    if (v === undefined) {
      v = contextVerdict(url, contexts, ctxPath, ctxType);
      byType.set(ctxType, v);
    }
    verdict = v;
  } else {
    verdict = contextVerdict(url, contexts, ctxPath, ctxType);
  }
  if (verdict) {
    ctx.report(verdict.severity, 'extension', verdict.text, `${path}.${key}[${i}]`);
  }
}

/**
 * Whether an extension with this definition context may sit on a holder with this element path
 * and type; the report when not.
 */
function contextVerdict(url: string, ctx: NonNullable<StructureDefinition['context']>, rawPath: string, typeName: string | undefined): ContextVerdict {
  // Recursive elements (contentReference) keep their definition's context: Questionnaire.item.item is Questionnaire.item.
  const elementPath = rawPath
    ?.split('.')
    .filter((seg, i, all) => i === 0 || seg !== all[i - 1])
    .join('.');
  const extra = EXTRA_CONTEXTS[url] ?? [];
  const ok =
    extra.includes(elementPath) ||
    ctx.some((c) => {
      const e = c.expression ?? '';
      return (
        e === 'Element' ||
        e === 'Resource' ||
        e === 'DomainResource' ||
        e === elementPath ||
        e === typeName ||
        // A FHIRPath context is not evaluated: it is taken as allowing the extension (no false errors).
        c.type === 'fhirpath' ||
        (!!elementPath && elementPath.endsWith('.' + e)) ||
        (!!elementPath && e.endsWith('.' + elementPath))
      );
    });
  if (ok) {
    return null;
  }
  // HL7's own R4 content does not always follow the contexts of HL7's core extensions; hold those to a warning.
  return {
    severity: url.startsWith(HL7_SD) ? 'warning' : 'error',
    text: `Extension '${url}' is not allowed on ${elementPath ?? typeName}; it may be used on ${ctx.map((c) => c.expression).join(', ')}`,
  };
}
