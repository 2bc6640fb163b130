// Run a program as a child process without blocking this process's event loop (the server under
// test often lives here), collecting its output.
import { spawn } from 'node:child_process';

export interface ChildResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function runChild(
  bin: string,
  args: readonly string[],
  options: { env: Record<string, string>; cwd?: string; input?: string },
): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      env: options.env,
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
    });
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ status: code ?? -1, stdout, stderr }));
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
