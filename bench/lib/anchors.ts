// Anchors measured in the same run as gatepass: moto_server (an AWS emulator whose STS validates
// nothing) and a raw node:http server doing the minimum of the same work. Ratios against them are
// what bench/README.md records, because absolute numbers move with the machine.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export interface Anchor {
  url: string;
  /** The serving process (for CPU accounting). */
  pid: number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function waitFor(url: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      await fetch(url, { method: 'GET' });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${url} did not come up`);
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
}

/** moto_server from the machine's pyenv Python, or undefined when it is not installed. */
export async function startMoto(): Promise<Anchor | undefined> {
  let bin: string;
  try {
    bin = execFileSync('pyenv', ['which', 'moto_server'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
  const port = await freePort();
  const child = spawn(bin, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}/`;
  await waitFor(url, 20_000);
  return { url, pid: child.pid ?? 0, stop: stopper(child) };
}

/**
 * A raw node:http anchor from this folder, started with `args` after its port; `input` goes to its
 * standard input (secrets: never argv, which any local user can read).
 */
async function startNodeAnchor(file: string, args: readonly string[] = [], input = ''): Promise<Anchor> {
  const port = await freePort();
  const script = fileURLToPath(new URL(file, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, String(port), ...args], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  child.stdin?.end(input);
  const url = `http://127.0.0.1:${port}/`;
  await waitFor(url, 10_000);
  return { url, pid: child.pid ?? 0, stop: stopper(child) };
}

/** The raw ceiling: parse a form, answer a small document. */
export const startHello = (): Promise<Anchor> => startNodeAnchor('./hello-server.ts');

/**
 * The verification floor: an RS256 check of the form's token against `jwk`, a `responseBytes` answer.
 * With `database` (a SQLite file), the durable floor: each verified call's row committed and synced
 * before its answer.
 */
export const startVerifyFloor = (jwk: object, responseBytes: number, database?: string): Promise<Anchor> =>
  startNodeAnchor('./verify-floor-server.ts', [
    JSON.stringify(jwk),
    String(responseBytes),
    ...(database ? [database] : []),
  ]);

/** The SigV4 floor: a signature check against `secrets` (access key id → secret), a `responseBytes` answer. */
export const startSigv4Floor = (secrets: Record<string, string>, responseBytes: number): Promise<Anchor> =>
  startNodeAnchor('./sigv4-floor-server.ts', [String(responseBytes)], JSON.stringify(secrets));
