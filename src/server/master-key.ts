// The master key (32 bytes) that encrypts private keys and sealing keys at rest. Sources, in order:
// GATEPASS_MASTER_KEY (base64), else a key file (default <dataDir>/master.key), generated with
// mode 0600 on first start. The issuer and the cloud side both load it through here.
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Random } from '../core/deps.js';
import { cryptoRandom } from '../runtime/random.js';
import { ConfigError } from './config.js';

export const MASTER_KEY_ENV = 'GATEPASS_MASTER_KEY';
export const MASTER_KEY_FILE = 'master.key';

export interface MasterKeyOptions {
  dataDir: string;
  /** Overrides <dataDir>/master.key. */
  masterKeyFile?: string;
  env?: Readonly<Record<string, string | undefined>>;
  random?: Random;
}

function decode(text: string, origin: string): Uint8Array {
  const trimmed = text.trim();
  const key = Buffer.from(trimmed, 'base64');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed) || key.length !== 32) {
    // Never echo the value: it is the key.
    throw new ConfigError([`${origin}: expected 32 bytes, base64-encoded`]);
  }
  return new Uint8Array(key);
}

/** Where the master key comes from: the environment variable, or the key file's path. */
export function masterKeySource(options: MasterKeyOptions): string {
  const fromEnv = (options.env ?? process.env)[MASTER_KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return MASTER_KEY_ENV;
  return resolve(options.masterKeyFile ?? join(options.dataDir, MASTER_KEY_FILE));
}

/** The master key when one exists (environment or key file), without ever creating one. */
export function findMasterKey(options: MasterKeyOptions): Uint8Array | undefined {
  const env = options.env ?? process.env;
  const fromEnv = env[MASTER_KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return decode(fromEnv, MASTER_KEY_ENV);
  const path = masterKeySource(options);
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new ConfigError([
        `master key file ${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      ]);
    }
  }
  if (text === undefined) return undefined;
  // A key file others can read is repaired rather than trusted as-is.
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  return decode(text, `master key file ${path}`);
}

/** The master key, generated into the key file on first start. */
export function loadMasterKey(options: MasterKeyOptions): Uint8Array {
  const found = findMasterKey(options);
  if (found) return found;
  const path = masterKeySource(options);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const key = (options.random ?? cryptoRandom).bytes(32);
  try {
    // 'wx': never overwrite a key another process created first.
    writeFileSync(path, `${Buffer.from(key).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadMasterKey(options);
    throw err;
  }
  return key;
}
