// The run directory's watchdog: a small detached shell that outlives a killed agent. Its standard
// input is one end of a pipe (a socket pair, as Node makes them) whose other end only the agent
// holds (close-on-exec, so not even the command inherits it): the kernel closes that end when the
// agent's process ends, however it ends (kill -9 included), and the shell's blocked `read` returns. It then deletes the run directory, if the
// directory is still this agent's: its marker names the agent's pid, so a directory the next phase
// of the same run has already made again (same path) is left alone. The agent closes the pipe
// itself once it has cleaned up, and the watchdog exits.
// Waiting on the pipe costs no CPU and acts at once; the previous watchdog polled every 200 ms,
// starting a `sleep` process each time for the whole run, and acted up to 200 ms late.
// It gets no secret and no environment beyond a fixed PATH: only the agent's pid and the directory.
import { type ChildProcess, spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { MARKER_FILE } from './delivery.js';

const SCRIPT = `
while IFS= read -r _; do :; done
pid=
IFS= read -r pid < "$2/${MARKER_FILE}" 2>/dev/null
if [ -n "$pid" ] && [ "$pid" = "$1" ]; then rm -rf -- "$2"; fi
`;

export interface Watchdog {
  pid: number;
  /** The agent has cleaned up: close its end of the pipe, and the watchdog exits. */
  release(): void;
}

/**
 * Start the watchdog for `dir`, whose marker holds `agentPid` (this process's pid unless a test
 * says otherwise); undefined when it could not start. Keep the returned object for the agent's
 * lifetime: its pipe is the watchdog's proof of life.
 */
export function watchRunDir(dir: string, agentPid: number = process.pid): Watchdog | undefined {
  let child: ChildProcess;
  try {
    child = spawn('/bin/sh', ['-c', SCRIPT, 'gatepass-watchdog', String(agentPid), dir], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
      env: { PATH: '/usr/bin:/bin' },
    });
  } catch {
    return undefined;
  }
  const { stdin, pid } = child;
  child.on('error', () => undefined);
  if (!stdin || pid === undefined) return undefined;
  // A watchdog that died early makes writes fail; nothing is ever written, but close may report it.
  stdin.on('error', () => undefined);
  // Neither the process nor its pipe keeps the agent's event loop alive.
  child.unref();
  (stdin as Socket).unref();
  return { pid, release: () => stdin.destroy() };
}
