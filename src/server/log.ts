// JSON-lines logger: one object per line on a writable stream (stderr by default). Callers must not
// pass secrets; keys that look like they carry one are still redacted here as a second line of defence.
import type { Clock } from '../core/deps.js';
import type { Logger, LogLevel } from '../http/log.js';
import { systemClock } from '../runtime/clock.js';

export const REDACTED = '[redacted]';
const SENSITIVE_KEY = /token|secret|password|authorization|signature|credential/i;
const RESERVED = new Set(['time', 'level', 'msg']);
const MAX_DEPTH = 6;

/**
 * Bounds on what one log line can hold, whatever a client sent: a string value keeps its first
 * 1,024 characters (an error's stack 4,096), an array its first 64 items and an object its first
 * 64 keys, each cut marked with how much was left out. Request data (paths, user agents, action
 * names, error details) is cut tighter where it is logged; this is the last line of defence.
 */
export const LOG_LIMITS = { chars: 1024, stackChars: 4096, items: 64, keys: 64 } as const;

/** `text`, or its first `max` characters and a marker saying how many more there were. */
export function cut(text: string, max: number = LOG_LIMITS.chars): string {
  return text.length <= max ? text : `${text.slice(0, max)}…[+${text.length - max} chars]`;
}

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
  if (typeof value === 'string') return cut(value);
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[truncated]';
  seen.add(value);
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: cut(value.name), message: cut(value.message) };
    if (value.stack) out.stack = cut(value.stack, LOG_LIMITS.stackChars);
    const code = (value as { code?: unknown }).code;
    if (code !== undefined) out.code = sanitize(code, depth + 1, seen);
    return out;
  }
  if (Array.isArray(value)) {
    const kept = value.slice(0, LOG_LIMITS.items).map((v) => sanitize(v, depth + 1, seen));
    if (value.length > LOG_LIMITS.items) kept.push(`…[+${value.length - LOG_LIMITS.items} items]`);
    return kept;
  }
  if (value instanceof Date) return value.toISOString();
  const out: Record<string, unknown> = {};
  let keys = 0;
  for (const k in value) {
    if (!Object.hasOwn(value, k)) continue;
    if (++keys > LOG_LIMITS.keys) {
      out['…'] = 'more keys left out';
      break;
    }
    const v = (value as Record<string, unknown>)[k];
    out[cut(k, 128)] = SENSITIVE_KEY.test(k) ? REDACTED : sanitize(v, depth + 1, seen);
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
