// How the CLI ends: `gatepass run` exits as soon as its output is written, instead of waiting for
// the event loop to run dry and Node to tear the heap down. A failed run hands its exit code back to
// whoever ends the process, so its last lines are written first there too.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { exitWhenWritten } from '../../src/cli/pipes.js';
import { runCli } from '../../src/cli/program.js';
import { runParsed } from '../../src/cli/run/action.js';
import { closedPort } from '../helpers/ports.js';

const pipes = pathToFileURL(join(new URL('../..', import.meta.url).pathname, 'src/cli/pipes.ts')).href;

/** Run `fn` and put the test process's own exit code back: the test runner ends with it. */
function keepingExitCode(fn: () => void): number | string | undefined {
  const before = process.exitCode;
  try {
    fn();
    return process.exitCode;
  } finally {
    process.exitCode = before;
  }
}

test('exitWhenWritten exits at once with the code when stdout and stderr hold nothing', () => {
  const exits: number[] = [];
  const code = keepingExitCode(() =>
    exitWhenWritten(3, [{ writableLength: 0 }, { writableLength: 0 }], (c) => exits.push(c)),
  );
  assert.deepEqual(exits, [3]);
  assert.equal(code, 3);
});

test('exitWhenWritten leaves output still waiting in a pipe to drain, with the exit code set', () => {
  const exits: number[] = [];
  const code = keepingExitCode(() =>
    exitWhenWritten(4, [{ writableLength: 0 }, { writableLength: 12 }], (c) => exits.push(c)),
  );
  assert.deepEqual(exits, [], 'not cut short: the process ends once the pipe has drained');
  assert.equal(code, 4);
});

/** Start a process that writes `lines` lines to its stderr (a socket, as Node's spawn makes it) and then calls exitWhenWritten(7). */
async function endingProcess(
  lines: number,
  setup: string,
): Promise<{ code: number | null; lines: string[] }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `import { exitWhenWritten } from ${JSON.stringify(pipes)};
       ${setup}
       for (let i = 0; i < ${lines}; i++) process.stderr.write('line ' + i + ' of the run log\\n');
       exitWhenWritten(7);`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, lines: stderr.trimEnd().split('\n') };
}

test('a process ending through exitWhenWritten exits at once, though a timer still holds its event loop', async () => {
  // The timer would end the process with 0 after 20 s: only the early exit gives 7.
  const ended = await endingProcess(5, 'setTimeout(() => process.exit(0), 20_000);');
  assert.equal(ended.code, 7);
  assert.deepEqual(
    ended.lines,
    [0, 1, 2, 3, 4].map((i) => `line ${i} of the run log`),
  );
});

test('a process ending through exitWhenWritten with more output than its socket takes at once delivers all of it', async () => {
  // 2,000 lines (~50 KB) overrun the socket's buffer: Node keeps the rest queued, and an exit at
  // once would lose it. The process ends with 7 once the queue has drained.
  const ended = await endingProcess(2000, '');
  assert.equal(ended.code, 7);
  assert.equal(ended.lines.length, 2000, 'every line written before the exit arrived');
  assert.equal(ended.lines.at(-1), 'line 1999 of the run log');
});

/** `fn` with the process's stderr writes captured (the failure's message), then put back. */
async function capturingStderr<T>(fn: () => Promise<T>): Promise<{ value: T; stderr: string }> {
  const write = process.stderr.write;
  let stderr = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    return { value: await fn(), stderr };
  } finally {
    process.stderr.write = write;
  }
}

test('a failed `gatepass run` returns its exit code to the caller, on both paths, instead of ending the process itself', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatepass-run-exit-'));
  try {
    const tokenFile = join(dir, 'agent-token');
    writeFileSync(tokenFile, 'not-a-real-agent-token\n', { mode: 0o600 });
    const server = `http://127.0.0.1:${await closedPort()}`;
    // The issuer is unreachable: the agent fails before the command starts (before the fix, both
    // calls ended the test process with process.exit).
    const direct = await capturingStderr(() =>
      runParsed({
        target: 'acme/networking',
        command: ['true'],
        flags: { phase: 'plan', server, agentTokenFile: tokenFile },
      }),
    );
    assert.equal(direct.value, 1);
    assert.match(direct.stderr, /error/i);
    assert.doesNotMatch(direct.stderr, /not-a-real-agent-token/, 'the token is never echoed');
    const viaCommander = await capturingStderr(() =>
      runCli([
        'node',
        'gatepass',
        'run',
        'acme/networking',
        '--phase',
        'plan',
        '--server',
        server,
        '--agent-token-file',
        tokenFile,
        '--',
        'true',
      ]),
    );
    assert.equal(viaCommander.value, 1);
    assert.equal(viaCommander.stderr, direct.stderr, 'the same message either way');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
