// The issuer's admin API (/api/v1) of a test node, as an operator's scripts call it: the bearer token
// the node wrote to <dataDir>/admin-token, over HTTPS trusting the node's local CA.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { send } from '../../src/agent/http-client.js';
import { ADMIN_TOKEN_FILE } from '../../src/issuer/admin-token.js';

export type AdminApi = (path: string, body: unknown) => Promise<Record<string, unknown>>;

export async function adminApi(url: string, dataDir: string, caPem: string): Promise<AdminApi> {
  const admin = (await readFile(join(dataDir, ADMIN_TOKEN_FILE), 'utf8')).trim();
  return async (path, body) => {
    const res = await send(
      new URL(`${url}/api/v1${path}`),
      {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      },
      { ca: [caPem] },
    );
    const json = JSON.parse(res.body.toString('utf8') || '{}') as Record<string, unknown>;
    if (res.status >= 300) throw new Error(`${path} → ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
}

/**
 * Organization `org`, workspace `workspace` with these environment variables, and an agent token
 * for the organization (returned): what `gatepass run <org>/<workspace>` needs.
 */
export async function workspaceWithAgentToken(
  api: AdminApi,
  org: string,
  workspace: string,
  vars: Record<string, string>,
): Promise<string> {
  await api('/orgs', { name: org });
  const ws = await api(`/orgs/${org}/workspaces`, { name: workspace });
  for (const [key, value] of Object.entries(vars)) {
    await api(`/workspaces/${String(ws.id)}/vars`, { key, value, category: 'env' });
  }
  return String((await api(`/orgs/${org}/agent-tokens`, { description: `${workspace} tests` })).token);
}
