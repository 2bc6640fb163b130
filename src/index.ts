// Public library surface: explicit re-exports only.
export type { Clock, Fetch, Random } from './core/deps.js';
export { fixedClock, systemClock } from './core/deps.js';
export type { Store } from './store/types.js';
