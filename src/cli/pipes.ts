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

/**
 * End the process with `code` once nothing it wrote still waits in `streams`. Ending here, not when
 * the event loop runs dry, spares Node's teardown of the heap and the loop: ~4 ms after a run, whose
 * forks left the process's pages copy-on-write for the teardown to write again (bench/agent). Node
 * writes to files, terminals and (on Linux) pipes at once, but a socket (what Node's spawn gives a
 * parent reading the output) keeps what it could not send queued: then the process ends on its
 * own once the queue has drained.
 */
export function exitWhenWritten(
  code: number,
  streams: readonly { writableLength: number }[] = [process.stdout, process.stderr],
  exit: (code: number) => void = (c) => process.exit(c),
): void {
  process.exitCode = code;
  if (streams.every((stream) => stream.writableLength === 0)) exit(code);
}
