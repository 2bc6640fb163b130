// A store with some of its methods replaced, for tests that count or fail a store's writes.
import type { Store, StoreOps } from '../../src/store/types.js';

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

/** `store` that records, by name, each call of one of `methods` in `calls`. */
export function countingStore(store: Store, methods: readonly string[]): { store: Store; calls: string[] } {
  const calls: string[] = [];
  const counting = overrideStore(store, (prop, real) =>
    methods.includes(prop)
      ? (...args: unknown[]) => {
          calls.push(prop);
          return real(...args);
        }
      : undefined,
  );
  return { store: counting, calls };
}

/**
 * `store` whose transactions hand their function a transaction with `method` replaced by
 * `override(tx)` (e.g. a read or write held back until another node has committed).
 */
export function overrideTxMethod(
  store: Store,
  method: keyof StoreOps,
  override: (tx: StoreOps) => (...args: never[]) => Promise<unknown>,
): Store {
  return overrideStore(store, (prop, real) =>
    prop === 'transaction'
      ? (fn: (tx: StoreOps) => Promise<unknown>) =>
          real(async (tx: StoreOps) =>
            fn(
              new Proxy(tx, {
                get(target, p, receiver) {
                  if (p === method) return override(target);
                  const v = Reflect.get(target, p, receiver);
                  return typeof v === 'function' ? v.bind(target) : v;
                },
              }),
            ),
          )
      : undefined,
  );
}

/** A promise and the function that resolves it, to hold one node's step until another's is done. */
export function signal(): { done: Promise<void>; fire: () => void } {
  let fire!: () => void;
  const done = new Promise<void>((resolve) => {
    fire = resolve;
  });
  return { done, fire };
}
