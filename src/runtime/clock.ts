// The process's clock: only composition roots (server, cli, the library entry) import it; everything
// else receives a `Clock` (src/core/deps.ts), so expiry and skew tests pass a fixed one.
import type { Clock } from '../core/deps.js';

export const systemClock: Clock = { now: () => Date.now() };
