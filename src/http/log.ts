// The structured logger every layer above core writes to; the server owns the one that writes JSON
// lines (src/server/log.ts).

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Structured logger. Fields must never carry tokens, secrets or request bodies. */
export interface Logger {
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
  /** Whether `level` is written at all, so a hot path can skip building fields (assumed true if absent). */
  enabled?(level: LogLevel): boolean;
}

export const silentLogger: Logger = {
  log() {},
  child() {
    return silentLogger;
  },
  enabled: () => false,
};
