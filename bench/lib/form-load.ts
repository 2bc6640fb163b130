// A closed-loop load in its own process (so it never shares an event loop, or a core's time slice
// bookkeeping, with the server under test): one fixed request, described by argv[2] as JSON, repeated
// by every connection; prints the LoadResult as one JSON line. `formLoad` runs it from a benchmark.
import { execFileSync } from 'node:child_process';
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

/** Run one load in a child process and return its result (bounded by the job's own duration). */
export function formLoad(job: FormLoadJob): LoadResult {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), JSON.stringify(job)],
    { encoding: 'utf8', timeout: job.warmupMs + job.durationMs + 60_000 },
  );
  return JSON.parse(out) as LoadResult;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const job = JSON.parse(process.argv[2] ?? '{}') as FormLoadJob;
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
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
