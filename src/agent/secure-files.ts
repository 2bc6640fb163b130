// Writing credential material safely (after aws-actions/configure-aws-credentials): private
// directories owned by us, files created exclusively with O_NOFOLLOW and mode 0600, and symlinks
// refused everywhere on the way, so another local user cannot redirect or read what we write.
// The calls are synchronous: each takes microseconds, where a promise-based call costs a thread-pool
// round trip, which in a freshly started agent is most of the time spent writing its files.
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  writeFileSync,
  writevSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { AgentError } from './errors.js';

const uid = (): number | undefined => (typeof process.getuid === 'function' ? process.getuid() : undefined);

function unsafe(path: string, why: string): AgentError {
  return new AgentError('unsafe_path', [`${path} ${why}`]);
}

/** The directory exists (created 0700 if missing), is not a symlink, is ours and private. */
export async function ensurePrivateDir(path: string): Promise<void> {
  try {
    mkdirSync(path, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const st = lstatSync(path);
  if (st.isSymbolicLink()) throw unsafe(path, 'is a symbolic link');
  if (!st.isDirectory()) throw unsafe(path, 'is not a directory');
  const me = uid();
  if (me !== undefined && st.uid !== me) throw unsafe(path, 'belongs to another user');
  if ((st.mode & 0o077) !== 0) chmodSync(path, 0o700);
}

/**
 * Create `path` (which must not exist) with mode 0600 and write `content` exactly, no newline added;
 * chunks are written one after another, in one call.
 */
export async function writePrivateFile(
  path: string,
  content: string | Uint8Array | readonly Uint8Array[],
): Promise<void> {
  const parent = lstatSync(dirname(path));
  if (parent.isSymbolicLink() || !parent.isDirectory())
    throw unsafe(dirname(path), 'is not a plain directory');
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  let fd: number;
  try {
    fd = openSync(path, flags, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ELOOP') throw unsafe(path, 'already exists');
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw unsafe(path, 'is not a regular file');
    // The umask can only take bits away; chmod anyway so the mode is exactly 0600.
    fchmodSync(fd, 0o600);
    if (typeof content === 'string' || content instanceof Uint8Array) writeFileSync(fd, content);
    else writeChunks(fd, content);
  } finally {
    closeSync(fd);
  }
}

/** writev until every chunk is written (a write may stop short of what it was given). */
function writeChunks(fd: number, chunks: readonly Uint8Array[]): void {
  let rest = chunks.filter((c) => c.length > 0);
  while (rest.length > 0) {
    let written = writevSync(fd, rest);
    // Drop what was written: whole chunks, then the written part of the next one.
    let i = 0;
    while (i < rest.length && written >= (rest[i] as Uint8Array).length) {
      written -= (rest[i] as Uint8Array).length;
      i++;
    }
    rest = rest.slice(i);
    if (written > 0) rest[0] = (rest[0] as Uint8Array).subarray(written);
  }
}
