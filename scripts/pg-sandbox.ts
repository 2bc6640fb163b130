// A throwaway PostgreSQL server for tests and benchmarks: initdb into a temp dir, start on a free
// loopback port, stop and delete on exit. With GATEPASS_TEST_DATABASE_URL set, that server is used
// instead. Run directly (`npx tsx scripts/pg-sandbox.ts`) it prints the URL and stays up until
// SIGINT/SIGTERM.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import postgres from 'postgres';

export interface PostgresSandbox {
  /** URL of the server's maintenance database. */
  url: string;
  /** A new empty database on the server, for one test's isolation. */
  createDatabase(name: string): Promise<string>;
  /** The postmaster's process id (benchmarks sample its CPU time); undefined for an external server. */
  serverPid(): number | undefined;
  stop(): Promise<void>;
}

function binDir(): string {
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => existsSync(join(debian, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) return join(debian, versions[0], 'bin');
  }
  return ''; // rely on PATH
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

// PostgreSQL refuses to run as root; as root we run it as the Debian package's `postgres` user.
function runAs(dir: string): { run: (cmd: string, args: string[]) => void } {
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const bin = binDir();
  return {
    run(cmd, args) {
      const exe = bin ? join(bin, cmd) : cmd;
      const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', exe, ...args]] : [exe, args];
      execFileSync(file, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    },
  };
}

async function createDatabaseOn(adminUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
  const sql = postgres(adminUrl, { max: 1, onnotice: () => undefined });
  try {
    await sql.unsafe(`DROP DATABASE IF EXISTS ${name}`);
    await sql.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await sql.end({ timeout: 1 });
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export interface SandboxOptions {
  /** fsync on, as a production server runs (benchmarks); tests leave it off for speed. */
  durable?: boolean;
  /** A server of its own even when GATEPASS_TEST_DATABASE_URL names a shared one (a test that stops it). */
  own?: boolean;
}

export async function startPostgres(options: SandboxOptions = {}): Promise<PostgresSandbox> {
  const external = options.own ? undefined : process.env.GATEPASS_TEST_DATABASE_URL;
  if (external) {
    return {
      url: external,
      // Test files share this server and run in parallel: a database per name and process.
      createDatabase: (name) => createDatabaseOn(external, `${name}_p${process.pid}`),
      serverPid: () => undefined,
      stop: async () => undefined,
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'gatepass-pg-'));
  const data = join(dir, 'data');
  const { run } = runAs(dir);
  const port = await freePort();
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'gatepass', '-E', 'UTF8', '--no-sync']);
  run('pg_ctl', [
    '-D',
    data,
    '-l',
    join(dir, 'server.log'),
    '-w',
    '-o',
    // fsync off: a test server's durability is not under test, its speed is.
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=${options.durable ? 'on' : 'off'} -c max_connections=400`,
    'start',
  ]);
  const url = `postgres://gatepass@127.0.0.1:${port}/postgres`;
  let stopped = false;
  // Synchronous, so it also runs from an 'exit' handler: a test process that ends without its
  // after() hook (an uncaught error, process.exit) still takes its server down with it.
  const stopNow = (): void => {
    if (stopped) return;
    stopped = true;
    process.off('exit', stopNow);
    try {
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  process.once('exit', stopNow);
  return {
    url,
    createDatabase: (name) => createDatabaseOn(url, name),
    serverPid: () => Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]),
    stop: async () => stopNow(),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const sandbox = await startPostgres();
  process.stdout.write(`${sandbox.url}\n`);
  // Nothing else keeps the event loop alive while the server (a separate daemon) runs.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const shutdown = (): void => {
    clearInterval(keepAlive);
    sandbox.stop().finally(() => process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}
