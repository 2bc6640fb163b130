// A running gatepass node with the cloud side mounted (real HTTP on loopback, a SQLite file in a
// temp dir), a test identity provider it trusts through a test CA, and the bootstrap
// administrator's keys read back from the credentials file the node wrote.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cloud } from '../../src/cloud/assemble.js';
import { type App, startServer } from '../../src/server/app.js';
import { CREDENTIALS_FILE } from '../../src/server/cloud-mount.js';
import { resolveConfig } from '../../src/server/config.js';
import { createJsonLogger } from '../../src/server/log.js';
import { startTestIdp, type TestIdp } from './idp.js';
import { makeTestPki, type TestPki } from './tls.js';

export interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface CloudFixture {
  app: App;
  cloud: Cloud;
  url: string;
  dataDir: string;
  pki: TestPki;
  idp: TestIdp;
  /** Profiles of the credentials file, by name. */
  profiles: Record<string, Keys>;
  admin: Keys;
  accountId: string;
  /** With `tls`: the node's local CA, which clients must trust and whose issuer the node trusts. */
  caFile?: string;
  stop(): Promise<void>;
}

export interface CloudOptions {
  /**
   * Serve HTTPS under the node's local CA and trust the node's own issuer for OIDC (as a deployed
   * node does), instead of the test identity provider: what `gatepass run` needs.
   */
  tls?: boolean;
  /** Trust this fixture's test identity provider (and leave it running at stop) instead of a new one. */
  idpOf?: CloudFixture;
  /** `denialMessages`: AWS's words only (the default) or with an encoded authorization message. */
  denialMessages?: 'aws' | 'encoded';
}

export function readCredentialsFile(path: string): Record<string, Keys> {
  const out: Record<string, Keys> = {};
  let current: Record<string, string> | undefined;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const section = /^\[(.+)\]$/.exec(line.trim());
    if (section?.[1]) {
      current = {};
      out[section[1]] = current as unknown as Keys;
      continue;
    }
    const kv = /^(\w+)\s*=\s*(.+)$/.exec(line.trim());
    if (kv?.[1] && kv[2] && current) {
      const key =
        kv[1] === 'aws_access_key_id'
          ? 'accessKeyId'
          : kv[1] === 'aws_secret_access_key'
            ? 'secretAccessKey'
            : kv[1];
      current[key] = kv[2];
    }
  }
  return out;
}

export async function startCloud(options: CloudOptions = {}): Promise<CloudFixture> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gatepass-cloud-'));
  const pki = options.idpOf?.pki ?? makeTestPki();
  const idp = options.idpOf?.idp ?? (await startTestIdp(pki));
  if (!options.idpOf) await idp.addKey('k1', 'RS256');
  const caFile = join(dataDir, 'idp-ca.pem');
  writeFileSync(caFile, pki.caPem);
  const app = await startServer(
    resolveConfig({
      env: {},
      flags: {
        port: 0,
        dataDir,
        logLevel: 'error',
        ...(options.denialMessages ? { denialMessages: options.denialMessages } : {}),
        ...(options.tls ? { tlsAutoHost: '127.0.0.1' } : { oidcCaFile: caFile }),
      },
    }),
    { log: createJsonLogger({ level: 'error', stream: { write: () => true } }) },
  );
  const cloud = app.services.cloud;
  if (!cloud) throw new Error('cloud did not start');
  const profiles = readCredentialsFile(join(dataDir, CREDENTIALS_FILE));
  const admin = profiles['gatepass-hub'];
  if (!admin) throw new Error('no bootstrap administrator');
  const [account] = await app.store.list('account');
  return {
    app,
    cloud,
    url: app.address.url,
    dataDir,
    pki,
    idp,
    profiles,
    admin,
    accountId: account?.id ?? '',
    ...(options.tls ? { caFile: join(dataDir, 'tls', 'ca.pem') } : {}),
    async stop() {
      await app.stop();
      if (!options.idpOf) await idp.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
