// Server configuration: one schema that drives parsing, validation, CLI flags and the generated docs.
// Sources merge as defaults < config file < environment < flags; every bad value from every source
// is reported in one ConfigError, and the result is frozen so nothing mutates it at run time.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { LogLevel } from '../http/log.js';

export type ConfigValueType = 'string' | 'integer' | 'port' | 'url' | 'path' | 'enum';

/** One configuration key. `Config` is derived from these, so the two cannot disagree. */
export interface ConfigKeySpec<K extends string = string> {
  /** The key in a config file and in `Config`. */
  key: K;
  type: ConfigValueType;
  /** Absent for optional keys. */
  default?: string | number;
  env: string;
  /** Long CLI flag, with its leading dashes. */
  flag: string;
  description: string;
  choices?: readonly string[];
  min?: number;
  max?: number;
  /** URL schemes accepted for type 'url'. */
  schemes?: readonly string[];
  /** The value may embed a credential (e.g. a database password): never echo it in errors. */
  sensitive?: boolean;
}

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const MAX_MS = 86_400_000;

// The single source of truth for configuration keys: `Config` is derived from it, the docs generator
// renders it and `gatepass serve` makes a flag of each.
const KEYS = [
  {
    key: 'host',
    type: 'string',
    default: '127.0.0.1',
    env: 'GATEPASS_HOST',
    flag: '--host',
    description: 'Interface address to listen on.',
  },
  {
    key: 'port',
    type: 'port',
    default: 8787,
    env: 'GATEPASS_PORT',
    flag: '--port',
    description: 'TCP port to listen on (0 picks a free port).',
    min: 0,
    max: 65535,
  },
  {
    key: 'dataDir',
    type: 'path',
    default: './.gatepass',
    env: 'GATEPASS_DATA_DIR',
    flag: '--data-dir',
    description: 'Directory for the embedded SQLite database and local state.',
  },
  {
    key: 'databaseUrl',
    type: 'url',
    env: 'GATEPASS_DATABASE_URL',
    flag: '--database-url',
    description: 'PostgreSQL URL for multi-node deployments; when unset the embedded SQLite store is used.',
    schemes: ['postgres:', 'postgresql:'],
    sensitive: true,
  },
  {
    key: 'workers',
    type: 'integer',
    default: 1,
    env: 'GATEPASS_WORKERS',
    flag: '--workers',
    description:
      'Worker processes sharing the listening port (node:cluster), e.g. one per core; they share the store.',
    min: 1,
    max: 256,
  },
  {
    key: 'issuerUrl',
    type: 'url',
    env: 'GATEPASS_ISSUER_URL',
    flag: '--issuer-url',
    description: "Public issuer URL placed in tokens' iss claim; defaults to the server's own URL.",
    schemes: ['http:', 'https:'],
  },
  {
    key: 'tlsCert',
    type: 'path',
    env: 'GATEPASS_TLS_CERT',
    flag: '--tls-cert',
    description: 'PEM certificate chain file; serves HTTPS when set together with tlsKey.',
  },
  {
    key: 'tlsKey',
    type: 'path',
    env: 'GATEPASS_TLS_KEY',
    flag: '--tls-key',
    description: 'PEM private key file for tlsCert.',
  },
  {
    key: 'bodyLimitBytes',
    type: 'integer',
    default: 1_048_576,
    env: 'GATEPASS_BODY_LIMIT_BYTES',
    flag: '--body-limit-bytes',
    description: 'Largest request body accepted; larger bodies get 413.',
    min: 1,
    max: 64 * 1_048_576,
  },
  {
    key: 'maxHeaderBytes',
    type: 'integer',
    default: 16_384,
    env: 'GATEPASS_MAX_HEADER_BYTES',
    flag: '--max-header-bytes',
    description: 'Largest total size of request headers; larger headers get 431.',
    min: 1024,
    max: 1_048_576,
  },
  {
    key: 'requestTimeoutMs',
    type: 'integer',
    default: 30_000,
    env: 'GATEPASS_REQUEST_TIMEOUT_MS',
    flag: '--request-timeout-ms',
    description: 'Time allowed to receive a whole request (0 disables).',
    min: 0,
    max: MAX_MS,
  },
  {
    key: 'headersTimeoutMs',
    type: 'integer',
    default: 10_000,
    env: 'GATEPASS_HEADERS_TIMEOUT_MS',
    flag: '--headers-timeout-ms',
    description: 'Time allowed to receive request headers; must not exceed requestTimeoutMs.',
    min: 1,
    max: MAX_MS,
  },
  {
    key: 'keepAliveTimeoutMs',
    type: 'integer',
    default: 5_000,
    env: 'GATEPASS_KEEP_ALIVE_TIMEOUT_MS',
    flag: '--keep-alive-timeout-ms',
    description: 'How long an idle keep-alive connection stays open.',
    min: 0,
    max: MAX_MS,
  },
  {
    key: 'logLevel',
    type: 'enum',
    default: 'info',
    env: 'GATEPASS_LOG_LEVEL',
    flag: '--log-level',
    description: 'Lowest log level written.',
    choices: LOG_LEVELS,
  },
  {
    key: 'shutdownGraceMs',
    type: 'integer',
    default: 10_000,
    env: 'GATEPASS_SHUTDOWN_GRACE_MS',
    flag: '--shutdown-grace-ms',
    description: 'On SIGTERM/SIGINT, how long in-flight requests may finish before connections are cut.',
    min: 0,
    max: MAX_MS,
  },
  {
    key: 'masterKeyFile',
    type: 'path',
    env: 'GATEPASS_MASTER_KEY_FILE',
    flag: '--master-key-file',
    description:
      'File holding the base64 master key that encrypts keys at rest (default <dataDir>/master.key, created 0600); GATEPASS_MASTER_KEY wins over it.',
  },
  {
    key: 'keyAlg',
    type: 'enum',
    default: 'RS256',
    env: 'GATEPASS_KEY_ALG',
    flag: '--key-alg',
    description: 'Algorithm of newly generated token signing keys.',
    choices: ['RS256', 'ES256'],
  },
  {
    key: 'keyRotationDays',
    type: 'integer',
    default: 90,
    env: 'GATEPASS_KEY_ROTATION_DAYS',
    flag: '--key-rotation-days',
    description: 'Automatic signing key rotation period, from the activation of the current key.',
    min: 1,
    max: 3650,
  },
  {
    key: 'keyPublishAheadSeconds',
    type: 'integer',
    default: 3600,
    env: 'GATEPASS_KEY_PUBLISH_AHEAD_SECONDS',
    flag: '--key-publish-ahead-seconds',
    description:
      "How long a new signing key is published in the JWKS before it signs; keep it longer than any verifier's JWKS cache.",
    min: 0,
    max: 30 * 86_400,
  },
  {
    key: 'runLeaseSeconds',
    type: 'integer',
    default: 30,
    env: 'GATEPASS_RUN_LEASE_SECONDS',
    flag: '--run-lease-seconds',
    description:
      "How long a `gatepass run` agent's lease on its run phase lasts without renewal (it renews every third); when it lapses (the agent was killed) the phase fails and the run is revoked, within this plus 2 seconds.",
    min: 3,
    max: 3600,
  },
  {
    key: 'denialMessages',
    type: 'enum',
    default: 'aws',
    env: 'GATEPASS_DENIAL_MESSAGES',
    flag: '--denial-messages',
    choices: ['aws', 'encoded'],
    description:
      "What an STS or IAM AccessDenied says: `aws`, AWS's words only, as AWS's STS and IAM answer; `encoded`, those words and an encoded authorization failure message (open it with `aws sts decode-authorization-message` or `gatepass explain --message`). Either way `gatepass explain <request-id>` tells the story.",
  },
  {
    key: 'stsRevokeRun',
    type: 'enum',
    default: 'on',
    env: 'GATEPASS_STS_REVOKE_RUN',
    flag: '--sts-revoke-run',
    description:
      "Whether the STS serves gatepass's RevokeRun; `off` answers it as AWS's STS answers an unknown action, to exercise the deny-list revocation meant for real AWS.",
    choices: ['on', 'off'],
  },
  {
    key: 'auditRetentionDays',
    type: 'integer',
    env: 'GATEPASS_AUDIT_RETENTION_DAYS',
    flag: '--audit-retention-days',
    description:
      'Delete audit events older than this many days, at start and then hourly (each prune is itself an audit event); unset keeps them all.',
    min: 1,
    max: 36_500,
  },
  {
    key: 'tlsAutoHost',
    type: 'string',
    env: 'GATEPASS_TLS_AUTO_HOST',
    flag: '--tls-auto-host',
    description:
      'Serve HTTPS with a local CA and a certificate for this host name, created under <dataDir>/tls (prints the CA thumbprint IAM needs); ignored when tlsCert is set.',
  },
  {
    key: 'oidcCaFile',
    type: 'path',
    env: 'GATEPASS_OIDC_CA_FILE',
    flag: '--oidc-ca-file',
    description:
      "PEM CA certificate trusted for identity providers' discovery and JWKS, besides the public roots and a provider's thumbprints (defaults to the local CA of tlsAutoHost).",
  },
] as const satisfies readonly ConfigKeySpec[];

type KeySpec = (typeof KEYS)[number];
/** What a key holds once parsed: a number, one of its choices, or a string. */
type ValueOf<S extends KeySpec> = S extends { type: 'integer' | 'port' }
  ? number
  : S extends { choices: readonly (infer C)[] }
    ? C
    : string;

/** The resolved configuration: a key with a default is always set, one without may be absent. */
export type Config = {
  [S in KeySpec as S extends { default: string | number } ? S['key'] : never]: ValueOf<S>;
} & {
  [S in KeySpec as S extends { default: string | number } ? never : S['key']]?: ValueOf<S>;
};

export type ConfigKey = keyof Config;

/** Every configuration key, in the order of the docs and `gatepass serve --help`. */
export const CONFIG_SCHEMA: readonly ConfigKeySpec<ConfigKey>[] = KEYS;

/** Environment variable naming the config file (the `--config` flag wins over it). */
export const CONFIG_FILE_ENV = 'GATEPASS_CONFIG';

import { ConfigError } from './config-error.js';

export { ConfigError };

export interface ConfigSources {
  /** Parsed config file contents (a mapping), if any. */
  file?: unknown;
  env: Readonly<Record<string, string | undefined>>;
  /** Values by config key (e.g. from commander); undefined means "not given". Other keys are ignored. */
  flags?: Readonly<Record<string, unknown>>;
}

type Source = 'file' | 'env' | 'flag';

function origin(spec: ConfigKeySpec, source: Source): string {
  if (source === 'file') return `config file key "${spec.key}"`;
  if (source === 'env') return spec.env;
  return spec.flag;
}

function shown(spec: ConfigKeySpec, raw: unknown): string {
  if (spec.sensitive) return '(value hidden)';
  const text = typeof raw === 'string' ? JSON.stringify(raw) : String(JSON.stringify(raw) ?? raw);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

type Parsed = { ok: true; value: string | number } | { ok: false; expected: string };

function parseValue(spec: ConfigKeySpec, raw: unknown): Parsed {
  switch (spec.type) {
    case 'integer':
    case 'port': {
      const min = spec.min ?? 0;
      const max = spec.max ?? Number.MAX_SAFE_INTEGER;
      const expected = `an integer from ${min} to ${max}`;
      let n: number;
      if (typeof raw === 'number') n = raw;
      else if (typeof raw === 'string' && /^\d+$/.test(raw.trim())) n = Number(raw.trim());
      else return { ok: false, expected };
      if (!Number.isSafeInteger(n) || n < min || n > max) return { ok: false, expected };
      return { ok: true, value: n };
    }
    case 'enum': {
      const choices = spec.choices ?? [];
      const expected = `one of ${choices.join(', ')}`;
      return typeof raw === 'string' && choices.includes(raw)
        ? { ok: true, value: raw }
        : { ok: false, expected };
    }
    case 'url': {
      const schemes = spec.schemes ?? ['http:', 'https:'];
      const expected = `an absolute ${schemes.map((s) => s.slice(0, -1)).join(' or ')} URL without query or fragment`;
      if (typeof raw !== 'string' || raw.trim() === '') return { ok: false, expected };
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        return { ok: false, expected };
      }
      if (!schemes.includes(url.protocol) || url.search !== '' || url.hash !== '')
        return { ok: false, expected };
      return { ok: true, value: raw };
    }
    case 'string':
    case 'path':
      return typeof raw === 'string' && raw.trim() !== ''
        ? { ok: true, value: raw }
        : { ok: false, expected: 'a non-empty string' };
  }
}

/** Merge and validate configuration from all sources. Pure: no file, env or process access. */
export function resolveConfig(sources: ConfigSources): Config {
  const problems: string[] = [];
  const specs = new Map<string, ConfigKeySpec>(CONFIG_SCHEMA.map((s) => [s.key, s]));

  let file: Record<string, unknown> = {};
  if (sources.file !== undefined && sources.file !== null) {
    if (typeof sources.file === 'object' && !Array.isArray(sources.file)) {
      file = sources.file as Record<string, unknown>;
      for (const key of Object.keys(file)) {
        if (!specs.has(key)) problems.push(`config file: unknown key "${key}"`);
      }
    } else {
      problems.push('config file: expected a mapping of configuration keys');
    }
  }

  const merged: Record<string, string | number> = {};
  for (const spec of CONFIG_SCHEMA) {
    const candidates: Array<[Source, unknown]> = [
      ['file', file[spec.key]],
      ['env', sources.env[spec.env] === '' ? undefined : sources.env[spec.env]],
      ['flag', sources.flags?.[spec.key]],
    ];
    if (spec.default !== undefined) merged[spec.key] = spec.default;
    // Later sources win, but every given value is checked so no bad input hides behind an override.
    for (const [source, raw] of candidates) {
      if (raw === undefined || (source === 'file' && raw === null)) continue;
      const parsed = parseValue(spec, raw);
      if (parsed.ok) merged[spec.key] = parsed.value;
      else
        problems.push(
          `${spec.key}: expected ${parsed.expected}, got ${shown(spec, raw)} (from ${origin(spec, source)})`,
        );
    }
  }

  if ((merged.tlsCert === undefined) !== (merged.tlsKey === undefined)) {
    problems.push('tlsCert and tlsKey must be set together');
  }
  const requestTimeout = merged.requestTimeoutMs;
  const headersTimeout = merged.headersTimeoutMs;
  if (
    typeof requestTimeout === 'number' &&
    typeof headersTimeout === 'number' &&
    requestTimeout > 0 &&
    headersTimeout > requestTimeout
  ) {
    problems.push(
      `headersTimeoutMs (${headersTimeout}) must not exceed requestTimeoutMs (${requestTimeout})`,
    );
  }

  if (problems.length > 0) throw new ConfigError(problems);
  // Every key with a default is set, every value passed its spec's parser: the shape Config derives.
  return deepFreeze(merged as Config);
}

export function deepFreeze<T>(value: T): Readonly<T> {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Read and parse a JSON or YAML config file (by extension; anything but .json is parsed as YAML). */
export async function readConfigFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError([`config file ${path}: cannot be read (${code})`]);
  }
  try {
    return extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    // Only the first line: parser messages can quote source lines, which may hold credentials.
    const first = (err instanceof Error ? err.message : 'parse error').split('\n')[0] ?? 'parse error';
    throw new ConfigError([`config file ${path}: ${first}`]);
  }
}

/** Resolve the config file path (flag, then GATEPASS_CONFIG), read it, and merge all sources. */
export async function loadConfig(options: {
  env: Readonly<Record<string, string | undefined>>;
  flags?: Readonly<Record<string, unknown>>;
  configPath?: string;
}): Promise<Config> {
  const envPath = options.env[CONFIG_FILE_ENV];
  const path = options.configPath ?? (envPath === '' ? undefined : envPath);
  const sources: ConfigSources = { env: options.env };
  if (options.flags) sources.flags = options.flags;
  if (path !== undefined) sources.file = await readConfigFile(path);
  return resolveConfig(sources);
}

/** A log-safe view of the configuration (credentials inside URLs removed). */
export function describeConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const spec of CONFIG_SCHEMA) {
    const value = config[spec.key];
    if (value === undefined) continue;
    out[spec.key] = spec.sensitive && typeof value === 'string' ? redactUrl(value) : value;
  }
  return out;
}

function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password !== '') url.password = 'redacted';
    return url.toString();
  } catch {
    return '(unparseable)';
  }
}
