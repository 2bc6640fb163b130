// A reader that stops early (`gatepass audit --json | head -1`) closes the pipe: end quietly, as a
// command stopped by SIGPIPE would, not with an unhandled 'error' stack trace. Other errors still throw.

export function endQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    });
  }
}
