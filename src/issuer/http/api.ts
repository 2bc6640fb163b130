// The platform API, JSON under /api/v1. The admin token administers; agent tokens (scoped to one
// organization) open runs and mint. Lists answer `{ items: [...] }`.
import type { Clock } from '../../core/deps.js';
import type { RunPhase, RunRecord } from '../../store/records/platform.js';
import type { Store } from '../../store/types.js';
import { authenticate, bearer, type Principal, requireAdmin } from '../auth.js';
import { IssuerError, invalidField } from '../errors.js';
import { asBody, onlyFields, optBool } from '../input.js';
import type { Keyring } from '../keyring.js';
import type { Platform } from '../platform.js';
import type { Runs } from '../runs.js';
import { publicVariable } from '../variables.js';
import { type Call, type Reply, Router } from './router.js';

export const API_PREFIX = '/api/v1';

export interface ApiDeps {
  store: Store;
  clock: Clock;
  platform: Platform;
  runs: Runs;
  keyring: Keyring;
  bodyLimit: number;
  /**
   * Called after the keyring changed and before the answer leaves: this node's cloud side applies
   * a removed or revoked key before `keys trim` / `keys revoke` return (other nodes: change feed).
   */
  keysChanged?: () => Promise<void>;
}

/** Key ids are RFC 7638 SHA-256 thumbprints: 43 base64url characters. */
const KID = /^[A-Za-z0-9_-]{43}$/;

const ok = (body: unknown, status = 200) => ({ status, body });
const items = (list: readonly unknown[]) => ok({ items: list });
const param = (call: Call, name: string): string => call.params[name] ?? '';

const isPhase = (v: unknown): v is RunPhase => v === 'plan' || v === 'apply';

/** `include: ["variables"]` (the only inclusion there is), taken off the body the run itself reads. */
function takeInclude(body: Record<string, unknown>): { include: boolean; rest: Record<string, unknown> } {
  const { include, ...rest } = body;
  if (include === undefined) return { include: false, rest };
  if (!Array.isArray(include) || include.some((v) => v !== 'variables'))
    throw invalidField('include', 'must be ["variables"] or left out');
  return { include: include.length > 0, rest };
}

export function createApiRouter(deps: ApiDeps): Router {
  const { platform, runs, keyring } = deps;
  const who = (call: Call): Promise<Principal> => authenticate(deps.store, deps.clock, bearer(call.req));
  const admin = async (call: Call): Promise<Principal> => {
    const p = await who(call);
    requireAdmin(p);
    return p;
  };
  const r = new Router(API_PREFIX, deps.bodyLimit);
  /** A route only the admin token may call. */
  const adm = (method: string, path: string, fn: (c: Call) => Promise<Reply>): void => {
    r.add(method, path, async (c) => {
      await admin(c);
      return fn(c);
    });
  };
  const org = (c: Call): string => param(c, 'org');
  const id = (c: Call): string => param(c, 'id');

  adm('GET', '/orgs', async () => items(await platform.listOrgs()));
  adm('POST', '/orgs', async (c) => ok(await platform.createOrg(await c.body()), 201));
  adm('GET', '/orgs/:org', async (c) => ok(await platform.getOrg(org(c))));
  adm('PATCH', '/orgs/:org', async (c) => ok(await platform.updateOrg(org(c), await c.body())));

  adm('GET', '/orgs/:org/projects', async (c) => items(await platform.listProjects(org(c))));
  adm('POST', '/orgs/:org/projects', async (c) =>
    ok(await platform.createProject(org(c), await c.body()), 201),
  );
  adm('PATCH', '/projects/:id', async (c) => ok(await platform.updateProject(id(c), await c.body())));

  adm('GET', '/orgs/:org/workspaces', async (c) => items(await platform.listWorkspaces(org(c))));
  adm('POST', '/orgs/:org/workspaces', async (c) =>
    ok(await platform.createWorkspace(org(c), await c.body()), 201),
  );
  adm('GET', '/workspaces/:id', async (c) => ok(await platform.getWorkspace(id(c))));
  adm('PATCH', '/workspaces/:id', async (c) => ok(await platform.updateWorkspace(id(c), await c.body())));

  for (const owner of ['workspaces', 'varsets']) {
    adm('GET', `/${owner}/:id/vars`, async (c) => items(await platform.listVariables(id(c))));
    adm('POST', `/${owner}/:id/vars`, async (c) =>
      ok(await platform.createVariable(id(c), await c.body()), 201),
    );
  }
  adm('PATCH', '/vars/:id', async (c) => ok(await platform.updateVariable(id(c), await c.body())));
  adm('DELETE', '/vars/:id', async (c) => {
    await platform.deleteVariable(id(c));
    return ok({ deleted: id(c) });
  });

  adm('GET', '/orgs/:org/varsets', async (c) => items(await platform.listVariableSets(org(c))));
  adm('POST', '/orgs/:org/varsets', async (c) =>
    ok(await platform.createVariableSet(org(c), await c.body()), 201),
  );
  adm('PATCH', '/varsets/:id', async (c) => ok(await platform.updateVariableSet(id(c), await c.body())));

  adm('GET', '/orgs/:org/agent-tokens', async (c) => items(await platform.listAgentTokens(org(c))));
  adm('POST', '/orgs/:org/agent-tokens', async (c) =>
    ok(await platform.createAgentToken(org(c), await c.body()), 201),
  );
  adm('DELETE', '/agent-tokens/:id', async (c) => ok(await platform.revokeAgentToken(id(c))));

  adm('GET', '/keys', async () => items(await keyring.list()));
  adm('POST', '/keys/rotate', async (c) => {
    const body = asBody(await c.body());
    onlyFields(body, ['immediate']);
    const rotated = await keyring.rotate({ immediate: optBool(body, 'immediate') ?? false });
    await deps.keysChanged?.();
    return ok(rotated, 201);
  });
  adm('POST', '/keys/trim', async (c) => {
    const body = asBody(await c.body());
    onlyFields(body, ['force']);
    // Maintenance trims expired retired keys too; report those along with the explicit trim.
    const { removed } = await keyring.maintain(true);
    const trimmed = await keyring.trim({ force: optBool(body, 'force') ?? false });
    await deps.keysChanged?.();
    return ok({ removed: [...removed, ...trimmed] });
  });
  adm('POST', '/keys/:kid/revoke', async (c) => {
    onlyFields(asBody(await c.body()), []);
    const kid = param(c, 'kid');
    if (!KID.test(kid)) throw new IssuerError('invalid_field', 'kid', 'not a key id');
    const result = await keyring.revoke(kid);
    await deps.keysChanged?.();
    return ok(result);
  });
  r.add('POST', '/tokens', async (c) => ok(await runs.adminMint(await admin(c), await c.body()), 201));

  // Starting a phase, the agent's first request can carry what it needs next: the lease taken in
  // the same write (`lease: true`) and the workspace's variables (`include: ["variables"]`).
  const variablesOf = async (run: RunRecord) => {
    const vars = await platform.effectiveVariables(await platform.getWorkspace(run.workspaceId));
    return [...vars.values()].map(publicVariable);
  };
  const started = async (run: RunRecord, phase: unknown, include: boolean) => {
    const leased = isPhase(phase) && run.phases[phase].leaseExpiresAt !== undefined;
    return {
      ...run,
      ...(leased ? { lease: runs.leaseOf(run, phase) } : {}),
      ...(include ? { variables: await variablesOf(run) } : {}),
    };
  };
  r.add('POST', '/runs', async (c) => {
    const p = await who(c);
    const { include, rest } = takeInclude(asBody(await c.body()));
    return ok(await started(await runs.open(p, rest), rest.phase, include), 201);
  });
  r.add('GET', '/runs/:id', async (c) => ok(await runs.get(await who(c), param(c, 'id'))));
  r.add('POST', '/runs/:id/phases/:phase/start', async (c) => {
    const p = await who(c);
    const { include, rest } = takeInclude(asBody(await c.body()));
    const run = await runs.start(p, param(c, 'id'), param(c, 'phase'), rest);
    return ok(await started(run, param(c, 'phase'), include));
  });
  r.add('POST', '/runs/:id/phases/:phase/finish', async (c) =>
    ok(await runs.finish(await who(c), param(c, 'id'), param(c, 'phase'), await c.body())),
  );
  r.add('POST', '/runs/:id/phases/:phase/lease', async (c) =>
    ok(await runs.lease(await who(c), param(c, 'id'), param(c, 'phase'), await c.body())),
  );
  r.add('POST', '/runs/:id/cancel', async (c) => ok(await runs.cancel(await who(c), param(c, 'id'))));
  r.add('POST', '/runs/:id/tokens', async (c) => {
    const p = await who(c);
    const body = asBody(await c.body());
    // `{ tokens: [...] }` mints several in one write; a single token request answers the token.
    return 'tokens' in body
      ? ok({ items: await runs.mintMany(p, param(c, 'id'), body) }, 201)
      : ok(await runs.mint(p, param(c, 'id'), body), 201);
  });
  r.add('GET', '/runs/:id/tokens', async (c) => items(await runs.mints(await who(c), param(c, 'id'))));
  r.add('GET', '/runs/:id/variables', async (c) => {
    return items(await variablesOf(await runs.get(await who(c), param(c, 'id'))));
  });
  return r;
}
