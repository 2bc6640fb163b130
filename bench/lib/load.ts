// A closed-loop HTTP load generator for benchmarks: C connections each send the next request as soon
// as the previous answer arrives, for a fixed duration after a warm-up. Run it in its own process so
// it does not share an event loop with the server under test. Targets loopback only.
import { Agent, request } from 'node:http';

export interface LoadSpec {
  url: string;
  method: 'GET' | 'POST';
  /** Called per request so bodies/headers can vary (e.g. fresh SigV4 signatures). */
  build: () => { headers: Record<string, string>; body?: string };
  connections: number;
  warmupMs: number;
  durationMs: number;
  /** A response status other than this counts as an error. */
  expectStatus?: number;
  /** Called when the measured window opens and when it closes (e.g. to sample CPU time). */
  onWindow?: (edge: 'start' | 'end') => void;
  /**
   * Paced instead of closed-loop: requests start on a fixed schedule of this many a second (shared
   * by the connections), and a request whose connection was still busy at its slot counts its latency
   * from the slot, so falling behind shows (see `nextStart`).
   */
  ratePerSecond?: number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers with the expected status over the whole run, warm-up included (to check against a log). */
  answered: number;
  /**
   * CPU time of the generator itself (this process, user + system) over the measured window, per
   * request in microseconds: on a machine whose cores it shares with the server, what it takes away.
   */
  generatorCpuUsPerRequest: number;
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const target = new URL(spec.url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(target.hostname))
    throw new Error('load tests target loopback only');
  const agent = new Agent({ keepAlive: true, maxSockets: spec.connections });
  const latencies: number[] = [];
  let errors = 0;
  let answered = 0;
  let measuring = false;
  let stop = false;
  const runStart = performance.now();
  let slots = 0;
  /**
   * When the next request's latency starts counting. A closed loop: now. A paced load: the request's
   * slot when its connection was still busy at that slot (the server is behind, and the wait counts,
   * so falling behind shows in p99); otherwise the moment it is sent, since Node's timers fire on a
   * millisecond clock, up to a millisecond after a slot that is only a fraction of one away: that
   * overshoot is the generator's own, not the server's.
   */
  const nextStart = async (): Promise<number> => {
    if (!spec.ratePerSecond) return performance.now();
    const slot = runStart + (slots++ * 1000) / spec.ratePerSecond;
    if (performance.now() >= slot) return slot;
    // Timers may also fire a little before the slot: wait again, so no request starts early.
    for (let wait = slot - performance.now(); wait > 0; wait = slot - performance.now())
      await new Promise((r) => setTimeout(r, wait));
    return performance.now();
  };

  const once = (started: number): Promise<void> =>
    new Promise((resolve) => {
      const { headers, body } = spec.build();
      const req = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname + target.search,
          method: spec.method,
          headers,
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === (spec.expectStatus ?? 200)) answered++;
            if (measuring) {
              latencies.push(performance.now() - started);
              if (res.statusCode !== (spec.expectStatus ?? 200)) errors++;
            }
            resolve();
          });
        },
      );
      req.on('error', () => {
        if (measuring) errors++;
        resolve();
      });
      req.end(body);
    });

  const loop = async (): Promise<void> => {
    while (!stop) await once(await nextStart());
  };
  const loops = Array.from({ length: spec.connections }, loop);
  await new Promise((r) => setTimeout(r, spec.warmupMs));
  measuring = true;
  spec.onWindow?.('start');
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, spec.durationMs));
  measuring = false;
  const cpu = process.cpuUsage(cpu0);
  spec.onWindow?.('end');
  const seconds = (performance.now() - t0) / 1000;
  stop = true;
  await Promise.all(loops);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  return {
    requests: latencies.length,
    errors,
    seconds,
    rps: latencies.length / seconds,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    answered,
    generatorCpuUsPerRequest: latencies.length > 0 ? (cpu.user + cpu.system) / latencies.length : 0,
  };
}
