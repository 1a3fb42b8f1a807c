/**
 * Who loads a base type's schema into @medplum/core: the definitions load resources' schemas on
 * first use (definitions-profiles.ts), and code outside the validator that compiles FHIRPath
 * against the schemas (the store's search values, src/store/search-native.ts) asks through here,
 * so it needs no validator instance of its own. The latest definitions created register themselves.
 */
let loader: ((type: string) => boolean) | undefined;

export function registerSchemaLoader(load: (type: string) => boolean): void {
  loader = load;
}

/** Loads a type's base schema when definitions exist; false when it cannot be had. */
export function ensureSchema(type: string): boolean {
  return loader?.(type) ?? false;
}
