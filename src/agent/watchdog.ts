// The run directory's watchdog: a small detached process that outlives a killed agent. It checks
// every 200 ms whether the agent is alive; once it is not, it deletes the run directory (token and
// config files) and exits. It exits as well once the directory is gone (the agent cleaned up
// itself). It gets no environment and no secret: only the agent's pid and the directory's path.
import { spawn } from 'node:child_process';

const SCRIPT = `
const fs = require('node:fs');
const pid = Number(process.argv[1]);
const dir = process.argv[2];
const alive = () => { try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; } };
setInterval(() => {
  if (!fs.existsSync(dir)) process.exit(0);
  if (!alive()) { fs.rmSync(dir, { recursive: true, force: true }); process.exit(0); }
}, 200);
`;

/** Start the watchdog for `dir`; returns its pid (undefined when it could not start). */
export function watchRunDir(dir: string, agentPid: number = process.pid): number | undefined {
  try {
    const child = spawn(process.execPath, ['-e', SCRIPT, String(agentPid), dir], {
      detached: true,
      stdio: 'ignore',
      env: {},
    });
    child.on('error', () => undefined);
    child.unref();
    return child.pid;
  } catch {
    return undefined;
  }
}
