/**
 * The mapping engine (mappings/README.md): load mapping folders, apply feeds to source records,
 * serve code tables as ConceptMaps. Implements MappingEngine (types.ts).
 */
import { mapRecords } from './apply';
import { conceptMaps } from './concept-map';
import { loadSource, loadSources } from './load';
import type { Feed, LoadedSource, MappingEngine } from './types';

export { mapRecord, mapRecords, groupRecord, groupWhere } from './apply';
export { conceptMapId, conceptMaps, listSystem } from './concept-map';
export { DEFAULT_MAPPINGS_DIR, loadSource, loadSources } from './load';
export { CANONICAL_LISTS } from './tables';
export { TRANSFORM_NAMES } from './transforms';
export * from './types';

/**
 * The feed of a source named `nameOrMessageType` (a feed name), or else the first feed, in
 * `order`, that reads it (an input file name for csv/json, a message type `SIU^S12` for hl7v2).
 */
export function feedFor(source: LoadedSource, nameOrMessageType: string): Feed | undefined {
  return source.feeds.find((f) => f.name === nameOrMessageType) ?? source.feeds.find((f) => f.matches(nameOrMessageType));
}

/** The engine as one object, for code that takes a MappingEngine. */
export const mappingEngine: MappingEngine = { loadSource, loadSources, mapRecords, conceptMaps };
