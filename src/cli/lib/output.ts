// Consistent CLI output: results on stdout (tables or JSON lines), diagnostics on stderr, colour only
// for a terminal without NO_COLOR. Commands print through this module, never console.log.
import pc from 'picocolors';

type Colors = ReturnType<typeof pc.createColors>;

export interface Writable {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/** Exit codes shared by every command. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** Thrown by commands for bad invocations (exit code 2); `problems` are printed one per line. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly problems: readonly string[] = [],
  ) {
    super(message);
  }
}

/** Ends a command with this exit code and nothing more to say: its output already said why. */
export class QuietExit extends Error {
  override readonly name = 'QuietExit';
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export interface Output {
  readonly colors: Colors;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** A line of plain text on stdout. */
  line(text?: string): void;
  /** One compact JSON document per line on stdout (machine-readable output). */
  json(value: unknown): void;
  /** Aligned columns on stdout; `columns` picks and orders the keys, header in bold. */
  table(rows: ReadonlyArray<Record<string, unknown>>, columns?: readonly string[]): void;
  success(text: string): void;
  warn(text: string): void;
  /** `error: message` on stderr, then each problem indented. */
  error(message: string, problems?: readonly string[]): void;
}

export interface OutputOptions {
  stdout?: Writable;
  stderr?: Writable;
  env?: Readonly<Record<string, string | undefined>>;
  /** Force colours on or off (default: stdout is a TTY and NO_COLOR is unset). */
  color?: boolean;
}

export function colorEnabled(stream: Writable, env: Readonly<Record<string, string | undefined>>): boolean {
  return stream.isTTY === true && env.NO_COLOR === undefined;
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function createOutput(options: OutputOptions = {}): Output {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const colors = pc.createColors(options.color ?? colorEnabled(stdout, options.env ?? process.env));

  return {
    colors,
    stdout,
    stderr,
    line(text = '') {
      stdout.write(`${text}\n`);
    },
    json(value) {
      stdout.write(`${JSON.stringify(value)}\n`);
    },
    table(rows, columns) {
      const keys = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
      if (keys.length === 0) return;
      const body = rows.map((r) => keys.map((k) => cell(r[k])));
      const widths = keys.map((k, i) => Math.max(k.length, ...body.map((r) => (r[i] ?? '').length)));
      const pad = (values: readonly string[]): string =>
        values
          .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i] ?? 0)))
          .join('  ')
          .trimEnd();
      stdout.write(`${colors.bold(pad(keys.map((k) => k.toUpperCase())))}\n`);
      for (const r of body) stdout.write(`${pad(r)}\n`);
    },
    success(text) {
      stdout.write(`${colors.green(text)}\n`);
    },
    warn(text) {
      stderr.write(`${colors.yellow('warning:')} ${text}\n`);
    },
    error(message, problems = []) {
      stderr.write(`${colors.red('error:')} ${message}\n`);
      for (const p of problems) stderr.write(`  - ${p}\n`);
    },
  };
}

/** Keys whose numeric values are epoch milliseconds in API records (`createdAt`, a phase's `deadline`). */
const TIME_KEY = /(At|^deadline)$/;
const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** A moment in the reader's local time zone, with its offset: `2026-12-06 11:20:31 +01:00`. */
export function localTime(ms: number): string {
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ` +
    `${sign}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`
  );
}

/**
 * API records carry times as epoch milliseconds; people read them as ISO 8601 (JSON output) or local
 * time (tables). Returns a copy with every `…At` / `deadline` number converted, at any depth.
 */
export function readableTimes(value: unknown, style: 'iso' | 'local'): unknown {
  if (Array.isArray(value)) return value.map((v) => readableTimes(v, style));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] =
      typeof v === 'number' && TIME_KEY.test(key) && Number.isFinite(v)
        ? style === 'iso'
          ? new Date(v).toISOString()
          : localTime(v)
        : readableTimes(v, style);
  }
  return out;
}
