/**
 * Snapshots for StructureDefinitions a package ships with only a differential
 * (https://hl7.org/fhir/R4/profiling.html#snapshot), and the repairs a package's snapshot needs
 * before @medplum/core's parser takes it.
 *
 * The generator covers the common cases, as SUSHI-built and hand-written profiles use them:
 * constraining a base resource, a datatype, an extension or another profile (whose snapshot is
 * generated first when it has none): cardinality, types, bindings, fixed/pattern values, invariants,
 * must-support, slices (with their children), and children of datatypes (`Observation.code.coding`,
 * expanded from the datatype's definition) and of choice elements named by type (`valueQuantity`).
 */
import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';

/** Where base snapshots come from: a StructureDefinition's (generated if need be), a datatype's. */
export interface SnapshotSource {
  snapshotOf(url: string): ElementDefinition[] | undefined;
  typeElements(type: string): ElementDefinition[] | undefined;
}

/** Raised when a differential cannot be placed on its base (reported as a broken profile). */
export class SnapshotError extends Error {}

/** The snapshot elements of `sd`, generated from its base and differential. */
export function generateSnapshot(sd: StructureDefinition, source: SnapshotSource): ElementDefinition[] {
  const baseUrl = sd.baseDefinition;
  const base = baseUrl ? source.snapshotOf(baseUrl) : undefined;
  if (!base) {
    throw new SnapshotError(`its base definition ${baseUrl ?? '(none)'} is not known`);
  }
  const elements: ElementDefinition[] = base.map((e) => ({ ...e, id: e.id ?? e.path }));
  for (const diff of sd.differential?.element ?? []) {
    const raw = diff.id ?? diff.path;
    if (!raw) {
      continue;
    }
    const { id, restrict } = choiceById(elements, raw);
    const at = locate(elements, id, source);
    if (at < 0) {
      throw new SnapshotError(`its differential element ${raw} is not in the base definition`);
    }
    if (restrict && !diff.type) {
      elements[at] = { ...elements[at], type: restrict };
    }
    // `value[x]:valueQuantity` names a type, not a slice: the choice element takes no slice name.
    const { sliceName: _sliceName, ...unsliced } = diff;
    elements[at] = merge(elements[at], restrict ? unsliced : diff);
  }
  rollUpSliceMinimums(elements);
  return elements;
}

/** A sliced element is needed at least as often as its slices together are (as the IG publisher writes it). */
function rollUpSliceMinimums(elements: ElementDefinition[]): void {
  const sums = new Map<string, number>();
  for (const e of elements) {
    const id = e.id as string;
    const last = id.slice(id.lastIndexOf('.') + 1);
    if (e.sliceName && last.endsWith(':' + e.sliceName)) {
      const unsliced = id.slice(0, id.length - e.sliceName.length - 1);
      sums.set(unsliced, (sums.get(unsliced) ?? 0) + (e.min ?? 0));
    }
  }
  for (let i = 0; i < elements.length; i++) {
    const sum = sums.get(elements[i].id as string);
    if (sum !== undefined && sum > (elements[i].min ?? 0)) {
      elements[i] = { ...elements[i], min: sum };
    }
  }
}

/** Merges a differential element into a snapshot element: what the differential says wins. */
function merge(base: ElementDefinition, diff: ElementDefinition): ElementDefinition {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(diff)) {
    if (k === 'id' || k === 'path') {
      continue;
    }
    if (k === 'constraint') {
      const keys = new Set((v as NonNullable<ElementDefinition['constraint']>).map((c) => c.key));
      out.constraint = [...(base.constraint ?? []).filter((c) => !keys.has(c.key)), ...(v as unknown[])];
    } else if (k.startsWith('fixed') || k.startsWith('pattern')) {
      for (const old of Object.keys(out)) {
        if (old.startsWith('fixed') || old.startsWith('pattern')) delete out[old];
      }
      out[k] = v;
    } else {
      out[k] = v;
    }
  }
  return out as unknown as ElementDefinition;
}

/**
 * A choice element named by one of its types, in either R4 form (`Observation.valueQuantity`,
 * `Observation.value[x]:valueQuantity`), is the choice element (`Observation.value[x]`) restricted
 * to that type; ids below it are rewritten the same way.
 */
function choiceById(elements: ElementDefinition[], id: string): { id: string; restrict?: ElementDefinition['type'] } {
  const segs = id.split('.');
  let prefix = '';
  let restrict: ElementDefinition['type'];
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    const here = prefix ? `${prefix}.${seg}` : seg;
    const typed =
      /^([a-z][A-Za-z0-9]*)\[x\]:\1([A-Z][A-Za-z0-9]*)$/.exec(seg) ??
      (elements.some((e) => e.id === here) ? null : /^([a-z][A-Za-z0-9]*?)([A-Z][A-Za-z0-9]*)$/.exec(seg));
    const choiceId = typed ? `${prefix}.${typed[1]}[x]` : undefined;
    const choice = choiceId ? elements.find((e) => e.id === choiceId) : undefined;
    const type = choice?.type?.filter((t) => t.code.toLowerCase() === typed?.[2].toLowerCase());
    if (choiceId && type?.length) {
      segs[i] = `${typed?.[1]}[x]`;
      if (i === segs.length - 1) restrict = type;
      else if (choice && choice.type && choice.type.length > 1) {
        // Children of the renamed choice come from that one type.
        const at = elements.indexOf(choice);
        elements[at] = { ...choice, type };
      }
    }
    prefix = prefix ? `${prefix}.${segs[i]}` : segs[i];
  }
  return { id: segs.join('.'), restrict };
}

function parentId(id: string): string | undefined {
  const dot = id.lastIndexOf('.');
  return dot < 0 ? undefined : id.slice(0, dot);
}

/** The index of the element with this id, creating it (slice or datatype child) when the base lacks it. */
function locate(elements: ElementDefinition[], id: string, source: SnapshotSource): number {
  const found = elements.findIndex((e) => e.id === id);
  if (found >= 0) {
    return found;
  }
  const last = id.slice(id.lastIndexOf('.') + 1);
  const parent = parentId(id);
  if (last.includes(':')) {
    // A new slice: a copy of the sliced element (and its children), after the group's last element.
    const unslicedId = id.slice(0, id.length - last.length) + last.split(':')[0];
    const at = locate(elements, unslicedId, source);
    if (at < 0) {
      return -1;
    }
    const sliceName = last.slice(last.indexOf(':') + 1);
    const group = descendants(elements, at, unslicedId, true);
    const copy = [elements[at], ...group.children].map((e) => {
      const rest = (e.id as string).slice(unslicedId.length);
      const { slicing: _slicing, ...el } = e;
      return { ...el, id: id + rest, ...(rest ? {} : { sliceName }) };
    });
    elements.splice(group.end, 0, ...copy);
    return group.end;
  }
  if (!parent) {
    return -1;
  }
  const p = locate(elements, parent, source);
  if (p < 0) {
    return -1;
  }
  // The parent's datatype children are not in the snapshot yet: add them from the datatype.
  const parentEl = elements[p];
  const typeCode = parentEl.type?.length === 1 ? parentEl.type[0].code : undefined;
  const typeEls = typeCode ? source.typeElements(typeCode) : undefined;
  if (!typeEls || descendants(elements, p, parentEl.id as string, false).children.length > 0) {
    return -1;
  }
  const root = typeEls[0].path;
  const children = typeEls.slice(1).map((e) => {
    const rest = (e.id ?? e.path ?? '').slice(root.length);
    return { ...e, id: (parentEl.id as string) + rest, path: parentEl.path + e.path.slice(root.length) };
  });
  elements.splice(p + 1, 0, ...children);
  return elements.findIndex((e) => e.id === id);
}

/** The elements below `elements[at]` (and, with `withSlices`, its slices and theirs): where they end. */
function descendants(elements: ElementDefinition[], at: number, id: string, withSlices: boolean): { children: ElementDefinition[]; end: number } {
  const children: ElementDefinition[] = [];
  let i = at + 1;
  for (; i < elements.length; i++) {
    const eid = elements[i].id as string;
    if (eid.startsWith(id + '.')) {
      children.push(elements[i]);
    } else if (withSlices && eid.startsWith(id + ':')) {
      continue;
    } else {
      break;
    }
  }
  return { children, end: i };
}

/**
 * Repairs what @medplum/core's parser cannot take in a package's snapshot: an element that
 * refers to another by `contentReference` (`Provenance.entity.agent` -> `Provenance.agent`) when
 * the referred element is sliced in the profile: the parser would copy the last slice in. The
 * element is written out from the unsliced one, without its slicing (the reference validator also
 * applies only the base definition there).
 */
export function prepareSnapshot(elements: ElementDefinition[]): ElementDefinition[] {
  const byId = new Map<string, ElementDefinition>();
  for (const e of elements) {
    if (e.id) byId.set(e.id, e);
  }
  const slicedPaths = new Set(elements.filter((e) => e.sliceName).map((e) => e.path));
  return elements.map((e) => {
    if (!e.contentReference) {
      return e;
    }
    const refPath = e.contentReference.slice(e.contentReference.indexOf('#') + 1);
    if (!slicedPaths.has(refPath)) {
      return e;
    }
    const ref = byId.get(refPath);
    if (!ref) {
      return e;
    }
    const { slicing: _slicing, sliceName: _sliceName, contentReference: _cr, ...rest } = ref;
    return {
      ...rest,
      id: e.id,
      path: e.path,
      min: e.min ?? ref.min,
      max: e.max ?? ref.max,
      base: { path: ref.base?.path ?? refPath, min: e.base?.min ?? ref.min ?? 0, max: e.base?.max ?? ref.max ?? '*' },
    };
  });
}
