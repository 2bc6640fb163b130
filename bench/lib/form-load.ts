// A closed-loop load in its own process (so it never shares an event loop, or a core's time slice
// bookkeeping, with the server under test): one fixed request, described by the JSON on its standard
// input, repeated by every connection; prints the LoadResult as one JSON line. `formLoad` runs it
// from a benchmark.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type LoadResult, runLoad } from './load.js';

export interface FormLoadJob {
  url: string;
  /** URL-encoded form fields to POST; absent: GET. */
  form?: Record<string, string>;
  connections: number;
  warmupMs: number;
  durationMs: number;
}

/**
 * Run one load in a child process and return its result (bounded by the job's own duration). The
 * caller's event loop keeps running meanwhile (it may be draining the server's output pipes), and
 * `onWindow` is called as the child's measured window opens and closes.
 */
export function formLoad(job: FormLoadJob, onWindow?: (edge: 'start' | 'end') => void): Promise<LoadResult> {
  return spawnLoad(fileURLToPath(import.meta.url), job, job.warmupMs + job.durationMs, onWindow);
}

/**
 * Run a load script (the job as JSON on its standard input, never in its argv, where any local user
 * could read a token; it prints its LoadResult as one JSON line and reports its measured window with
 * `reportWindow`) in a child process.
 */
export function spawnLoad(
  script: string,
  job: unknown,
  boundMs: number,
  onWindow?: (edge: 'start' | 'end') => void,
): Promise<LoadResult> {
  return loadProcess(process.execPath, ['--import', 'tsx', script], boundMs, onWindow, JSON.stringify(job));
}

/**
 * Run any load generator that speaks this protocol (`input` on its standard input, its LoadResult as
 * one JSON line on stdout, its window's edges on stderr, exit 0), bounded by `boundMs` and a minute's
 * grace.
 */
export function loadProcess(
  file: string,
  args: readonly string[],
  boundMs: number,
  onWindow: ((edge: 'start' | 'end') => void) | undefined,
  input: string | Buffer,
): Promise<LoadResult> {
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: boundMs + 60_000 });
  child.stdin.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
    for (const edge of ['start', 'end'] as const) {
      if (stderr.includes(`${WINDOW}${edge}\n`)) {
        stderr = stderr.replace(`${WINDOW}${edge}\n`, '');
        onWindow?.(edge);
      }
    }
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      if (code === 0) resolve(JSON.parse(stdout) as LoadResult);
      else reject(new Error(`load process exited ${code}: ${stderr.slice(-500)}`));
    });
  });
}

/** In a load script: tell the parent the measured window opened or closed. */
export const reportWindow = (edge: 'start' | 'end'): void => {
  process.stderr.write(`${WINDOW}${edge}\n`);
};

const WINDOW = 'load-window:';

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const job = JSON.parse(readFileSync(0, 'utf8')) as FormLoadJob;
  const body = job.form ? new URLSearchParams(job.form).toString() : undefined;
  const headers: Record<string, string> = body
    ? {
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': String(Buffer.byteLength(body)),
      }
    : {};
  const result = await runLoad({
    url: job.url,
    method: body ? 'POST' : 'GET',
    build: () => (body ? { headers, body } : { headers }),
    connections: job.connections,
    warmupMs: job.warmupMs,
    durationMs: job.durationMs,
    onWindow: reportWindow,
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
