// Public library surface: explicit re-exports only.
export type { Clock, Fetch, Random } from './core/deps.js';
export { fixedClock } from './core/deps.js';
export { systemClock } from './runtime/clock.js';
export type { Store } from './store/types.js';
