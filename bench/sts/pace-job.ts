// A load of one kind of call (requests.ts) from the C generator, as load-worker.ts runs it from Node.
import type { LoadResult } from '../lib/load.js';
import { paceLoad } from '../lib/pace.js';
import { jobRequests, type LoadJob } from './requests.js';

export async function paceJob(job: LoadJob, onWindow?: (edge: 'start' | 'end') => void): Promise<LoadResult> {
  const spec = {
    url: job.url,
    requests: await jobRequests(job),
    connections: job.connections,
    warmupMs: job.warmupMs,
    durationMs: job.durationMs,
  };
  return paceLoad(job.ratePerSecond ? { ...spec, ratePerSecond: job.ratePerSecond } : spec, onWindow);
}
