// The demo's platform side through the issuer's own API: organization, project, workspace, its
// TFC_AWS_* variables and an agent token, each created only when missing (or updated when it
// differs), so the demo can run again on the same data directory.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { type ApiClient, ApiError, enc, itemsOf } from '../lib/issuer-client.js';

/** The workspace variables of the hub-and-spoke example (HCP names plus gatepass's chain targets). */
export function workspaceVariables(
  accounts: { hub: string; dev: string; prod: string },
  stsEndpoint: string,
): Record<string, string> {
  const hubRole = (phase: string) => `arn:aws:iam::${accounts.hub}:role/runs/tfc-${phase}`;
  const vars: Record<string, string> = {
    TFC_AWS_PROVIDER_AUTH: 'true',
    TFC_AWS_PLAN_ROLE_ARN: hubRole('plan'),
    TFC_AWS_APPLY_ROLE_ARN: hubRole('apply'),
  };
  // Alias `member` (the name examples/terraform uses) reaches dev; alias `prod` reaches prod.
  for (const [tag, account] of [
    ['member', accounts.dev],
    ['prod', accounts.prod],
  ] as const) {
    vars[`TFC_AWS_PROVIDER_AUTH_${tag}`] = 'true';
    vars[`TFC_AWS_PLAN_ROLE_ARN_${tag}`] = hubRole('plan');
    vars[`TFC_AWS_APPLY_ROLE_ARN_${tag}`] = hubRole('apply');
    vars[`GATEPASS_AWS_PLAN_CHAIN_ROLE_ARN_${tag}`] = `arn:aws:iam::${account}:role/terraform-plan`;
    vars[`GATEPASS_AWS_APPLY_CHAIN_ROLE_ARN_${tag}`] = `arn:aws:iam::${account}:role/terraform-apply`;
    vars[`GATEPASS_AWS_ALLOWED_ACCOUNT_IDS_${tag}`] = account;
  }
  vars.GATEPASS_AWS_STS_ENDPOINT = stsEndpoint;
  return vars;
}

export interface PlatformSpec {
  org: string;
  project: string;
  workspace: string;
  variables: Record<string, string>;
  /** Where the agent token lives between demo runs (0600); reused while the issuer accepts it. */
  agentTokenFile: string;
}

const API = '/api/v1';

async function findByName(client: ApiClient, path: string, name: string) {
  return itemsOf(await client.call('GET', path)).find(
    (i) => String(i.name).toLowerCase() === name.toLowerCase(),
  );
}

async function exists(client: ApiClient, path: string): Promise<boolean> {
  try {
    await client.call('GET', path);
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return false;
    throw err;
  }
}

export async function ensureDemoPlatform(
  client: ApiClient,
  spec: PlatformSpec,
): Promise<{ created: string[]; agentToken: string }> {
  const created: string[] = [];
  const org = enc(spec.org);
  if (!(await exists(client, `${API}/orgs/${org}`))) {
    await client.call('POST', `${API}/orgs`, { name: spec.org });
    created.push(`organization ${spec.org}`);
  }
  if (!(await findByName(client, `${API}/orgs/${org}/projects`, spec.project))) {
    await client.call('POST', `${API}/orgs/${org}/projects`, { name: spec.project });
    created.push(`project ${spec.project}`);
  }
  let ws = await findByName(client, `${API}/orgs/${org}/workspaces`, spec.workspace);
  if (!ws) {
    ws = (await client.call('POST', `${API}/orgs/${org}/workspaces`, {
      name: spec.workspace,
      project: spec.project,
    })) as Record<string, unknown>;
    created.push(`workspace ${spec.workspace}`);
  }
  const wsId = enc(String(ws.id));
  const current = new Map(
    itemsOf(await client.call('GET', `${API}/workspaces/${wsId}/vars`)).map((v) => [String(v.key), v]),
  );
  let written = 0;
  for (const [key, value] of Object.entries(spec.variables)) {
    const have = current.get(key);
    if (!have) await client.call('POST', `${API}/workspaces/${wsId}/vars`, { key, value, category: 'env' });
    else if (have.value !== value)
      await client.call('PATCH', `${API}/vars/${enc(String(have.id))}`, { value });
    else continue;
    written += 1;
  }
  if (written > 0) created.push(`${written} variable${written === 1 ? '' : 's'}`);
  return { created, agentToken: await agentToken(client, spec, created) };
}

/** The saved agent token when its record is still active, else a new one (saved 0600). */
async function agentToken(client: ApiClient, spec: PlatformSpec, created: string[]): Promise<string> {
  const idFile = `${spec.agentTokenFile}.id`;
  if (existsSync(spec.agentTokenFile) && existsSync(idFile)) {
    const id = (await readFile(idFile, 'utf8')).trim();
    const record = itemsOf(await client.call('GET', `${API}/orgs/${enc(spec.org)}/agent-tokens`)).find(
      (t) => t.id === id,
    );
    if (record && record.revokedAt === undefined) return (await readFile(spec.agentTokenFile, 'utf8')).trim();
  }
  const made = (await client.call('POST', `${API}/orgs/${enc(spec.org)}/agent-tokens`, {
    description: 'gatepass demo',
  })) as { token: string; agentToken: { id: string } };
  await writeFile(spec.agentTokenFile, `${made.token}\n`, { mode: 0o600 });
  await writeFile(idFile, `${made.agentToken.id}\n`);
  created.push('agent token');
  return made.token;
}
