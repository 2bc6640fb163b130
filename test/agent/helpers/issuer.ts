// A real gatepass node (issuer mounted) on loopback with an organization `acme`, a workspace
// `networking`, and an agent token for it; helpers to set workspace variables and read runs.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type App, startServer } from '../../../src/server/app.js';
import { resolveConfig } from '../../../src/server/config.js';
import { createJsonLogger } from '../../../src/server/log.js';

export interface TestIssuer {
  app: App;
  url: string;
  adminToken: string;
  agentToken: string;
  workspaceId: string;
  call(
    method: string,
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<{ status: number; json: unknown }>;
  setVar(key: string, value: string, sensitive?: boolean): Promise<void>;
  /** Another workspace of `acme` with its own variables. */
  addWorkspace(name: string, vars?: Record<string, string>): Promise<string>;
  run(id: string): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'gatepass-agent-issuer-'));
  const app = await startServer(resolveConfig({ env: {}, flags: { port: 0, dataDir, logLevel: 'error' } }), {
    log: createJsonLogger({ level: 'error', stream: { write: () => true } }),
  });
  const adminToken = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
  const url = app.address.url;
  const call: TestIssuer['call'] = async (method, path, body, token = adminToken) => {
    const res = await fetch(`${url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, json: text === '' ? undefined : (JSON.parse(text) as unknown) };
  };
  const must = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
    const r = await call(method, path, body);
    if (r.status >= 300) throw new Error(`${method} ${path} → ${r.status} ${JSON.stringify(r.json)}`);
    return r.json as Record<string, unknown>;
  };
  await must('POST', '/orgs', { name: 'acme' });
  const ws = await must('POST', '/orgs/acme/workspaces', { name: 'networking' });
  const workspaceId = String(ws.id);
  const at = await must('POST', '/orgs/acme/agent-tokens', { description: 'tests' });
  return {
    app,
    url,
    adminToken,
    agentToken: String(at.token),
    workspaceId,
    call,
    async setVar(key, value, sensitive = false) {
      await must('POST', `/workspaces/${workspaceId}/vars`, { key, value, category: 'env', sensitive });
    },
    async addWorkspace(name, vars = {}) {
      const created = await must('POST', '/orgs/acme/workspaces', { name });
      for (const [key, value] of Object.entries(vars)) {
        await must('POST', `/workspaces/${String(created.id)}/vars`, { key, value, category: 'env' });
      }
      return name;
    },
    run: (id) => must('GET', `/runs/${id}`),
    async stop() {
      await app.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
