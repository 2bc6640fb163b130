// What a command does when the reader of its output goes away (`gatepass audit --json | head -1`
// closes the pipe). Other stream errors still throw.

const closed = (err: NodeJS.ErrnoException): boolean => err.code === 'EPIPE';

/**
 * Most commands end quietly, as one stopped by SIGPIPE would, not with an unhandled 'error' stack
 * trace. `gatepass run` goes on without its log: it still has to delete the credential files, revoke
 * the phase and close it at the issuer (it writes only to stderr; the command has its own stdio).
 */
export function onClosedPipe(command: string | undefined): void {
  if (command === 'run') {
    process.stderr.on('error', (err: NodeJS.ErrnoException) => {
      if (!closed(err)) throw err;
    });
    return;
  }
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (!closed(err)) throw err;
      process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    });
  }
}
