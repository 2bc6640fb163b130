// Everything impure that core logic needs comes in through these interfaces, so expiry, skew and
// rotation tests pass a fixed clock instead of faking timers.

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export interface Random {
  bytes(length: number): Uint8Array;
  uuid(): string;
}

export type Fetch = typeof fetch;

export function fixedClock(startMs: number): Clock & { advance(ms: number): void; set(ms: number): void } {
  let t = startMs;
  return {
    now: () => t,
    advance(ms) {
      t += ms;
    },
    set(ms) {
      t = ms;
    },
  };
}
