// A store with some of its methods replaced, for tests that count or fail a store's writes.
import type { Store } from '../../src/store/types.js';

/**
 * `store` with `override(name, real)` in place of each method it returns a function for; every
 * other method is the store's own (bound to it).
 */
export function overrideStore(
  store: Store,
  override: (name: string, real: (...args: unknown[]) => unknown) => unknown,
): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      const real = v.bind(target) as (...args: unknown[]) => unknown;
      return override(String(prop), real) ?? real;
    },
  });
}
