// The run's command: same stdio and working directory as the agent, its own environment; its exit
// becomes the agent's exit code (the code, or 128 + signal number as shells report it). Signals the
// agent receives are relayed to it.
import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:os';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** What the agent exits with. */
  exitCode: number;
  /** The command could not be started (e.g. ENOENT); exitCode is 127 or 126 then. */
  spawnError?: string;
}

export const RELAYED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  if (signal !== null) return 128 + (constants.signals[signal] ?? 0);
  return 1;
}

export interface StartedChild {
  process: ChildProcess;
  exited: Promise<ChildExit>;
}

export function startChild(
  command: readonly string[],
  options: { env: Record<string, string>; cwd: string; stdio?: 'inherit' | 'ignore' | 'pipe' },
): StartedChild {
  const [file, ...args] = command;
  if (file === undefined) throw new Error('no command');
  const child = spawn(file, args, { cwd: options.cwd, env: options.env, stdio: options.stdio ?? 'inherit' });
  const exited = new Promise<ChildExit>((resolve) => {
    let settled = false;
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      const exitCode = err.code === 'EACCES' ? 126 : 127;
      resolve({ code: null, signal: null, exitCode, spawnError: err.code ?? err.message });
    });
    child.once('exit', (code, signal) => {
      if (settled) return;
      settled = true;
      resolve({ code, signal, exitCode: exitCodeOf(code, signal) });
    });
  });
  return { process: child, exited };
}

export interface SignalRelayOptions {
  /**
   * A terminal already delivers SIGINT (Ctrl-C) and SIGHUP to the whole foreground process group,
   * child included; relaying them again would make e.g. Terraform see a second interrupt and abort
   * without cleaning up. So with an interactive terminal only SIGTERM is relayed.
   */
  interactive: boolean;
  /** Told once per signal received (after relaying). */
  onSignal?: (signal: NodeJS.Signals) => void;
}

/** Catches SIGINT/SIGTERM/SIGHUP for the agent's lifetime and relays them to the child, if any. */
export class SignalRelay {
  private child: ChildProcess | undefined;
  private first: NodeJS.Signals | undefined;
  private readonly handlers = new Map<NodeJS.Signals, () => void>();

  constructor(private readonly options: SignalRelayOptions) {}

  /** The first signal received, if any: the run is being cancelled. */
  get received(): NodeJS.Signals | undefined {
    return this.first;
  }

  install(): void {
    for (const sig of RELAYED_SIGNALS) {
      const handler = () => this.handle(sig);
      this.handlers.set(sig, handler);
      process.on(sig, handler);
    }
  }

  uninstall(): void {
    for (const [sig, handler] of this.handlers) process.off(sig, handler);
    this.handlers.clear();
  }

  attach(child: ChildProcess): void {
    this.child = child;
  }

  detach(): void {
    this.child = undefined;
  }

  private handle(sig: NodeJS.Signals): void {
    this.first ??= sig;
    const child = this.child;
    const terminalDelivered = this.options.interactive && sig !== 'SIGTERM';
    if (child && child.exitCode === null && child.signalCode === null && !terminalDelivered) child.kill(sig);
    this.options.onSignal?.(sig);
  }
}
