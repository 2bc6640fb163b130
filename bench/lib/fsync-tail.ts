// The disk's own sync latency, an anchor for the tail of anything that commits durably: rewrite one
// 8 KiB block of a scratch file and fdatasync it, `count` times, and report the percentiles. A
// synced commit on the event loop stalls every request behind it for at least this long.
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { removeTempDir } from '../../test/helpers/temp.js';
import { scratchDir } from './scratch.js';

export interface SyncTail {
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

export function fdatasyncTail(dir: string, count = 3000): SyncTail {
  const scratch = scratchDir('gatepass-sync-', dir);
  const fd = openSync(join(scratch, 'block'), 'w+');
  try {
    const block = Buffer.alloc(8192, 1);
    const ms: number[] = [];
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      writeSync(fd, block, 0, block.length, (i % 64) * block.length);
      fdatasyncSync(fd);
      ms.push(performance.now() - t);
    }
    ms.sort((a, b) => a - b);
    const at = (p: number): number => ms[Math.min(ms.length - 1, Math.floor(ms.length * p))] ?? 0;
    return { p50Ms: at(0.5), p99Ms: at(0.99), p999Ms: at(0.999), maxMs: at(1) };
  } finally {
    closeSync(fd);
    removeTempDir(scratch);
  }
}
