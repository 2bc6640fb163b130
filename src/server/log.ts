// JSON-lines logger: one object per line on a writable stream (stderr by default). Callers must not
// pass secrets; keys that look like they carry one are still redacted here as a second line of defence.
import type { Clock } from '../core/deps.js';
import { systemClock } from '../core/deps.js';
import type { Logger, LogLevel } from '../core/http.js';

export const REDACTED = '[redacted]';
const SENSITIVE_KEY = /token|secret|password|authorization|signature|credential/i;
const RESERVED = new Set(['time', 'level', 'msg']);
const MAX_DEPTH = 6;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LogSink {
  write(chunk: string): unknown;
}

export interface JsonLoggerOptions {
  level?: LogLevel;
  stream?: LogSink;
  clock?: Clock;
  fields?: Record<string, unknown>;
}

/** Replace sensitive-looking keys at any depth and make Errors, bigints and cycles serialisable. */
export function sanitize(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[truncated]';
  seen.add(value);
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: value.message };
    if (value.stack) out.stack = value.stack;
    const code = (value as { code?: unknown }).code;
    if (code !== undefined) out.code = sanitize(code, depth + 1, seen);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => sanitize(v, depth + 1, seen));
  if (value instanceof Date) return value.toISOString();
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SENSITIVE_KEY.test(k) ? REDACTED : sanitize(v, depth + 1, seen);
  }
  return out;
}

export function createJsonLogger(options: JsonLoggerOptions = {}): Logger {
  const threshold = RANK[options.level ?? 'info'];
  const stream: LogSink = options.stream ?? process.stderr;
  const clock = options.clock ?? systemClock;

  const make = (bound: Record<string, unknown>): Logger => ({
    log(level, msg, fields) {
      if (RANK[level] < threshold) return;
      const line: Record<string, unknown> = { time: new Date(clock.now()).toISOString(), level, msg };
      for (const source of [bound, fields ?? {}]) {
        for (const [k, v] of Object.entries(source)) {
          if (RESERVED.has(k)) continue;
          line[k] = SENSITIVE_KEY.test(k) ? REDACTED : sanitize(v);
        }
      }
      let text: string;
      try {
        text = JSON.stringify(line);
      } catch {
        text = JSON.stringify({ time: line.time, level, msg, logError: 'fields not serialisable' });
      }
      try {
        stream.write(`${text}\n`);
      } catch {
        // A broken log pipe must not take the request down with it.
      }
    },
    child(fields) {
      return make({ ...bound, ...fields });
    },
    enabled: (level) => RANK[level] >= threshold,
  });
  return make(options.fields ?? {});
}
