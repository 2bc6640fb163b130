// A small ext4 file system on a loop device, for tests that need real disk faults: forced read-only
// (as after an I/O error, or a power cut for everything not yet synced) and full. Needs root and
// loop devices; `loopUnavailable()` says why not, so tests can skip. Every file system made here is
// torn down by `destroy()` and, as a guard, by `destroyAllLoopFs()` (a test file's `after` hook).
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

const run = (cmd: string, args: readonly string[]): string =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });

/** Why loop-device file systems cannot be made here, or undefined when they can. */
export function loopUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root';
  if (!existsSync('/dev/loop-control')) return 'no loop devices (/dev/loop-control)';
  for (const tool of ['losetup', 'mkfs.ext4', 'e2fsck', 'mount', 'umount']) {
    try {
      run('sh', ['-c', `command -v ${tool}`]);
    } catch {
      return `${tool} is not installed`;
    }
  }
  return undefined;
}

export interface LoopFs {
  /** The mount point. */
  readonly dir: string;
  /** /dev/loopN */
  readonly device: string;
  /** Mount (again) with errors=remount-ro. */
  mount(): void;
  /** Unmount; lazily if something still holds it, so teardown never hangs. */
  unmount(): void;
  /** e2fsck -fy; the exit code (0 clean, 1 errors fixed; 4 and up are failures). */
  fsck(): number;
  /** Make ext4 report an error now: with errors=remount-ro the file system turns read-only at once. */
  triggerError(): void;
  /** Whether the kernel has turned the file system read-only (emergency_ro or ro). */
  readOnly(): boolean;
  /** Write a file until the file system is full; `free()` removes it. */
  fill(): { bytes: number; free(): void };
  /** Unmount, detach the loop device, delete the image. Safe to call twice. */
  destroy(): void;
}

const live = new Set<LoopFs>();

export function makeLoopFs(sizeMb: number): LoopFs {
  const root = mkdtempSync(join(tmpdir(), 'gatepass-loopfs-'));
  const image = join(root, 'disk.img');
  const dir = join(root, 'mnt');
  mkdirSync(dir);
  run('truncate', ['-s', `${sizeMb}M`, image]);
  run('mkfs.ext4', ['-q', '-F', image]);
  const device = run('losetup', ['--find', '--show', image]).trim();
  let mounted = false;
  let destroyed = false;
  const fs: LoopFs = {
    dir,
    device,
    mount() {
      run('mount', ['-t', 'ext4', '-o', 'errors=remount-ro', device, dir]);
      mounted = true;
    },
    unmount() {
      if (!mounted) return;
      try {
        run('umount', [dir]);
      } catch {
        run('umount', ['-l', dir]);
      }
      mounted = false;
    },
    fsck() {
      try {
        run('e2fsck', ['-f', '-y', device]);
        return 0;
      } catch (err) {
        const status = (err as { status?: number }).status;
        return typeof status === 'number' ? status : 8;
      }
    },
    triggerError() {
      run('sh', ['-c', `echo 1 > /sys/fs/ext4/${basename(device)}/trigger_fs_error`]);
    },
    readOnly() {
      const line = run('cat', ['/proc/mounts'])
        .split('\n')
        .find((l) => l.split(' ')[1] === dir);
      const options = line?.split(' ')[3]?.split(',') ?? [];
      return options.includes('ro') || options.includes('emergency_ro');
    },
    fill() {
      const path = join(dir, 'filler');
      const fd = openSync(path, 'w');
      let bytes = 0;
      try {
        // Big chunks, then small ones into whatever is left.
        for (const size of [1 << 20, 64 << 10, 4 << 10, 512]) {
          const chunk = Buffer.alloc(size, 0x5a);
          for (;;) {
            try {
              bytes += writeSync(fd, chunk);
            } catch (err) {
              if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
              throw err;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
      return {
        bytes,
        free: () => {
          if (existsSync(path)) unlinkSync(path);
        },
      };
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      live.delete(fs);
      try {
        fs.unmount();
      } finally {
        try {
          run('losetup', ['-d', device]);
        } finally {
          rmSync(root, { recursive: true, force: true });
        }
      }
    },
  };
  live.add(fs);
  try {
    fs.mount();
  } catch (err) {
    fs.destroy();
    throw err;
  }
  return fs;
}

/** Tear down every loop file system still up (the guard for a test that failed half way). */
export function destroyAllLoopFs(): void {
  for (const fs of [...live]) {
    try {
      fs.destroy();
    } catch {
      // Best effort: the next one still gets its turn.
    }
  }
}
