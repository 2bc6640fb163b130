// The run directory's watchdog: a small detached process that outlives a killed agent. It checks
// every 200 ms whether the agent is alive; once it is not, it deletes the run directory (token and
// config files) and exits. It exits as well once the directory is gone (the agent cleaned up
// itself). It gets no secret and no environment beyond a fixed PATH: only the agent's pid and the
// directory's path. It is a shell loop, not a second Node process: that one cost a whole Node
// start-up beside the agent's on every run, and ~40 MB for the run's lifetime.
import { spawn } from 'node:child_process';

const SCRIPT = `
while [ -e "$2" ]; do
  if ! kill -0 "$1" 2>/dev/null; then rm -rf -- "$2"; exit 0; fi
  sleep 0.2
done
`;

/** Start the watchdog for `dir`; returns its pid (undefined when it could not start). */
export function watchRunDir(dir: string, agentPid: number = process.pid): number | undefined {
  try {
    const child = spawn('/bin/sh', ['-c', SCRIPT, 'gatepass-watchdog', String(agentPid), dir], {
      detached: true,
      stdio: 'ignore',
      env: { PATH: '/usr/bin:/bin' },
    });
    child.on('error', () => undefined);
    child.unref();
    return child.pid;
  } catch {
    return undefined;
  }
}
