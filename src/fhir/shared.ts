/**
 * Frozen values the resources of a run share: the coded values and extensions a mapper makes from
 * a closed list of codes (an Encounter's interventions, class and types, every resource's
 * source-record identifier type). Each is made once per key and frozen all the way down, so no
 * resource can change what another holds (a write throws), and the JSON written is the same as if
 * each were made afresh. The validator remembers a frozen value it found valid by identity
 * (src/validation/walker.ts, deepFrozen) instead of by its JSON text, which cost ~2 µs per coded
 * value checked: a fifth of a pipeline Encounter's validation.
 */

/** Values held per table and owner before they are let go (the keys come from closed code lists: a bound, not a working size). */
const SHARED_MAX = 10_000;

/** Freezes `value` and everything in it; returns it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) {
      deepFreeze(v);
    }
    Object.freeze(value);
  }
  return value;
}

/**
 * One kind of shared value (a mapper's interventions, its classes ...), by key: a table per kind
 * keeps the keys short (a code, not the system and URL around it), and looking one up is most of
 * what sharing costs.
 */
export class SharedValues<T> {
  private readonly constants = new Map<string, T>();
  private readonly byOwner = new WeakMap<object, Map<string, T>>();

  /**
   * The frozen value for `key`, made by `make` the first time it is asked for. `owner`: what the
   * value depends on besides its key (a run's PackageTerms, whose displays a coding carries); its
   * values die with it.
   */
  get(key: string, make: () => T, owner?: object): T {
    let values = this.constants;
    if (owner !== undefined) {
      let own = this.byOwner.get(owner);
      if (!own) {
        own = new Map();
        this.byOwner.set(owner, own);
      }
      values = own;
    }
    let value = values.get(key);
    if (value === undefined) {
      if (values.size >= SHARED_MAX) {
        values.clear();
      }
      value = deepFreeze(make());
      values.set(key, value);
    }
    return value;
  }
}
