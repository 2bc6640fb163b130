// A real `gatepass serve` process on loopback for tests that drive it the way an operator does: its
// own issuer over HTTPS with the local CA, the admin token, the CLI's connection flags, a setup file
// applied to its store (picked up through the change feed) and an organization with workspaces.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NodeProcess, spawnNode } from '../cluster/helpers.js';
import { cli } from '../explain/helpers.js';

export interface AdminNode {
  node: NodeProcess;
  url: string;
  /** `host:port` of the node's issuer URL. */
  host: string;
  dataDir: string;
  masterKey: string;
  caPem: string;
  adminToken: string;
  /** `--server … --token-file … --ca …` for CLI commands that talk to the node. */
  auth: string[];
  stop(): Promise<void>;
}

export interface AdminNodeOptions {
  /** Temp directory prefix. */
  name: string;
  /** A setup file applied with `gatepass apply --data-dir` once the node runs. */
  setup?: string;
  /** Environment for the setup file's `${…}` references; ISSUER and ISSUER_HOST are always set. */
  setupEnv?: (n: { url: string; host: string }) => Record<string, string>;
  /** Created with the CLI: `org/workspace` under `project` (or the default project). */
  organization?: { name: string; project?: string; workspaces: string[] };
  /** Extra `gatepass serve` flags. */
  serveArgs?: string[];
}

export async function startAdminNode(o: AdminNodeOptions): Promise<AdminNode> {
  const dataDir = await mkdtemp(join(tmpdir(), `gatepass-${o.name}-`));
  const masterKey = randomBytes(32).toString('base64');
  const caFile = join(dataDir, 'tls', 'ca.pem');
  const node = await spawnNode({
    dataDir,
    masterKey,
    caFile,
    extraArgs: ['--tls-auto-host', '127.0.0.1', ...(o.serveArgs ?? [])],
  });
  const host = node.url.replace(/^https:\/\//, '');
  const n: AdminNode = {
    node,
    url: node.url,
    host,
    dataDir,
    masterKey,
    caPem: await readFile(caFile, 'utf8'),
    adminToken: (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim(),
    auth: ['--server', node.url, '--token-file', join(dataDir, 'admin-token'), '--ca', caFile],
    async stop() {
      await node.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  try {
    if (o.setup !== undefined) {
      const applied = await cli(['apply', '-f', o.setup, '--data-dir', dataDir, '--json'], {
        GATEPASS_MASTER_KEY: masterKey,
        ISSUER: node.url,
        ISSUER_HOST: host,
        ...(o.setupEnv?.({ url: node.url, host }) ?? {}),
      });
      assert.equal(applied.code, 0, applied.stderr);
    }
    if (o.organization) {
      const { name, project, workspaces } = o.organization;
      assert.equal((await cli(['org', 'create', name, ...n.auth])).code, 0);
      if (project !== undefined)
        assert.equal((await cli(['project', 'create', name, project, ...n.auth])).code, 0);
      for (const ws of workspaces) {
        const args = ['workspace', 'create', `${name}/${ws}`, ...(project ? ['--project', project] : [])];
        const r = await cli([...args, ...n.auth]);
        assert.equal(r.code, 0, r.stderr);
      }
    }
  } catch (err) {
    await n.stop();
    throw err;
  }
  return n;
}

/** examples/hub-and-spoke applied, with acme's Infra project holding `networking` and `dns`. */
export const hubAndSpoke = (name: string): AdminNodeOptions => ({
  name,
  setup: 'examples/hub-and-spoke/setup.yaml',
  setupEnv: ({ url, host }) => ({
    GATEPASS_ISSUER_URL: url,
    GATEPASS_ISSUER_HOST: host,
    GATEPASS_ISSUER_THUMBPRINT: 'a'.repeat(40),
  }),
  organization: { name: 'acme', project: 'Infra', workspaces: ['networking', 'dns'] },
});
