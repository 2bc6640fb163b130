// The C load generator (pace.c) from a benchmark: compiled once per version of its source into
// node_modules/.cache, run in its own process, its result read as load.ts's. Used where latency at a
// set rate is measured (bench/sts/workers.ts), because the Node generator's own tail is several ms.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadProcess } from './form-load.js';
import type { LoadResult } from './load.js';

const SOURCE = fileURLToPath(new URL('./pace.c', import.meta.url));
const CACHE = fileURLToPath(new URL('../../node_modules/.cache/gatepass-bench/', import.meta.url));

export interface RawRequest {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
}

export interface PaceSpec {
  url: string;
  /** Sent in turn, one per request. */
  requests: readonly RawRequest[];
  connections: number;
  warmupMs: number;
  durationMs: number;
  /** Requests a second on a fixed schedule; absent: a closed loop. */
  ratePerSecond?: number;
}

/** The compiled generator, built on first use; undefined when this machine has no C compiler. */
export function paceBinary(): string | undefined {
  const source = readFileSync(SOURCE);
  const binary = join(CACHE, `pace-${createHash('sha256').update(source).digest('hex').slice(0, 16)}`);
  if (existsSync(binary)) return binary;
  mkdirSync(CACHE, { recursive: true });
  // Built under a name of this process's own, then renamed: a concurrent build never runs a half-written file.
  const building = `${binary}.${process.pid}`;
  try {
    execFileSync('cc', ['-O2', '-o', building, SOURCE], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  renameSync(building, binary);
  return binary;
}

function wire(target: URL, r: RawRequest): Buffer {
  const body = Buffer.from(r.body ?? '');
  const headers: Record<string, string> = { host: target.host, ...r.headers };
  if (r.method === 'POST') headers['content-length'] = String(body.length);
  let head = `${r.method} ${target.pathname}${target.search} HTTP/1.1\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  return Buffer.concat([Buffer.from(`${head}\r\n`), body]);
}

/** Run one load with the C generator; `onWindow` as in form-load.ts. */
export async function paceLoad(
  spec: PaceSpec,
  onWindow?: (edge: 'start' | 'end') => void,
): Promise<LoadResult> {
  const binary = paceBinary();
  if (!binary) throw new Error('the C load generator needs a C compiler (cc)');
  const target = new URL(spec.url);
  if (target.hostname !== '127.0.0.1') throw new Error('load tests target 127.0.0.1 only');
  // The requests carry a bench token or signatures: handed over on a pipe, never written to disk.
  const parts: Buffer[] = [Buffer.from(`${spec.requests.length}\n`)];
  for (const r of spec.requests) {
    const bytes = wire(target, r);
    parts.push(Buffer.from(`${bytes.length}\n`), bytes);
  }
  const args = [target.port, spec.connections, spec.warmupMs, spec.durationMs, spec.ratePerSecond ?? 0, '-'];
  return loadProcess(
    binary,
    args.map(String),
    spec.warmupMs + spec.durationMs,
    onWindow,
    Buffer.concat(parts),
  );
}
