// The load generator in its own process (so it never shares an event loop with the server): runs
// one closed-loop load described by the JSON on its standard input (form-load.ts's spawnLoad) and
// prints the result as one JSON line.
import { readFileSync } from 'node:fs';
import { reportWindow } from '../lib/form-load.js';
import { runLoad } from '../lib/load.js';
import { jobRequests, type LoadJob } from './requests.js';

const job = JSON.parse(readFileSync(0, 'utf8')) as LoadJob;
let requests = await jobRequests(job);
// Signatures are good for 15 minutes: a long load signs a fresh pool in the background.
const refresh =
  job.kind === 'caller-identity'
    ? setInterval(() => {
        void jobRequests(job).then((fresh) => {
          requests = fresh;
        });
      }, 60_000)
    : undefined;
let i = 0;
const first = requests[0];
if (!first) throw new Error('no request to send');
const result = await runLoad({
  url: job.url,
  method: first.method,
  build: () => {
    const r = requests[i++ % requests.length] ?? first;
    return r.body === undefined
      ? { headers: r.headers }
      : { headers: { ...r.headers, 'content-length': String(Buffer.byteLength(r.body)) }, body: r.body };
  },
  connections: job.connections,
  warmupMs: job.warmupMs,
  durationMs: job.durationMs,
  onWindow: reportWindow,
  ...(job.ratePerSecond ? { ratePerSecond: job.ratePerSecond } : {}),
});
clearInterval(refresh);
process.stdout.write(`${JSON.stringify(result)}\n`);
