// What a command does when the reader of its output goes away (`gatepass audit --json | head -1`
// closes the pipe). Other stream errors still throw.

/**
 * Most commands end quietly, as one stopped by SIGPIPE would, not with an unhandled 'error' stack
 * trace. `gatepass run` goes on without its log: it still has to delete the credential files, revoke
 * the phase and close it at the issuer (the command it runs has its own stdio).
 */
export function onClosedPipe(command: string | undefined): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      if (command !== 'run') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    });
  }
}
