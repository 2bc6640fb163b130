// What the operator UI reads beyond the audit, explain and reach APIs (admin token only):
// GET /api/v1/run-timelines lists the latest runs, GET /api/v1/run-timelines/:id tells one run's
// story from its mint records, the audit events that name it and the revocations that cover it
// (own paths, so they never shadow the issuer's /api/v1/runs routes); GET /api/v1/org-tree gives
// the accounts and OUs, so the reach graph can group roles by account and OU.
import type { Clock } from '../../core/deps.js';
import type { Mount } from '../../http/transport.js';
import { authenticate, bearer, requireAdmin } from '../../issuer/auth.js';
import { IssuerError, invalidField } from '../../issuer/errors.js';
import { type Call, Router } from '../../issuer/http/router.js';
import type { Store } from '../../store/types.js';
import { runTimeline } from './timeline.js';

const PREFIX = '/api/v1';
const PATHS = [`${PREFIX}/run-timelines`, `${PREFIX}/org-tree`];
const RUN_ID = /^[A-Za-z0-9_-]{1,128}$/;
/** Events of one run the timeline reads: far more than a run makes, bounded all the same. */
const EVENTS_MAX = 2000;

/** What the UI's API reads: the store, the clock (token expiry) and the request body limit. */
export interface UiApiDeps {
  store: Store;
  clock: Clock;
  bodyLimitBytes: number;
}

export const uiApiMounts = (env: UiApiDeps): readonly Mount[] => {
  const r = new Router(PREFIX, env.bodyLimitBytes);
  const adm = (path: string, fn: (c: Call) => Promise<unknown>) =>
    r.add('GET', path, async (c) => {
      requireAdmin(await authenticate(env.store, env.clock, bearer(c.req)));
      return { status: 200, body: await fn(c) };
    });
  const names = async () => ({
    orgs: new Map((await env.store.list('organization')).map((o) => [o.id, o.name])),
    workspaces: new Map((await env.store.list('workspace')).map((w) => [w.id, w.name])),
  });

  adm('/run-timelines', async (c) => {
    const raw = new URL(c.req.url ?? '/', 'http://request.invalid').searchParams.get('limit') ?? '50';
    const limit = Number(raw);
    if (!/^\d{1,4}$/.test(raw) || limit < 1 || limit > 1000)
      throw invalidField('limit', 'expected an integer from 1 to 1000');
    const { orgs, workspaces } = await names();
    const runs = (await env.store.list('run')).sort((a, b) => b.createdAt - a.createdAt).slice(0, limit);
    const items = [];
    for (const run of runs) {
      const mints = await env.store.list('mint', { index: { name: 'run', value: run.id } });
      items.push({
        id: run.id,
        organization: orgs.get(run.orgId) ?? run.orgId,
        workspace: workspaces.get(run.workspaceId) ?? run.workspaceId,
        status: run.status,
        createdAt: run.createdAt,
        ...(run.closedAt !== undefined ? { closedAt: run.closedAt } : {}),
        phases: { plan: run.phases.plan.status, apply: run.phases.apply.status },
        tokens: mints.length,
      });
    }
    return { items };
  });

  adm('/run-timelines/:id', async (c) => {
    const id = c.params.id ?? '';
    if (!RUN_ID.test(id)) throw invalidField('id', 'expected a run id');
    const run = await env.store.get('run', id);
    if (!run) throw new IssuerError('not_found', 'run');
    const { orgs, workspaces } = await names();
    return runTimeline({
      run,
      organization: orgs.get(run.orgId) ?? run.orgId,
      workspace: workspaces.get(run.workspaceId) ?? run.workspaceId,
      mints: await env.store.list('mint', { index: { name: 'run', value: run.id } }),
      events: await env.store.queryAudit({ runId: run.id, limit: EVENTS_MAX }),
      revocations: (
        await Promise.all(
          (['run', 'phase', 'role'] as const).map((scope) =>
            env.store.list('revocation', { index: { name: 'scope', value: scope } }),
          ),
        )
      ).flat(),
    });
  });

  adm('/org-tree', async () => ({
    accounts: (await env.store.list('account')).map((a) => ({
      id: a.id,
      name: a.name,
      ...(a.parentId !== undefined ? { parentId: a.parentId } : {}),
    })),
    units: (await env.store.list('organizationalUnit')).map((u) => ({
      id: u.id,
      name: u.name,
      ...(u.parentId !== undefined ? { parentId: u.parentId } : {}),
    })),
  }));

  return [
    {
      name: 'ui-api',
      match: (p) => PATHS.some((x) => p === x || p.startsWith(`${x}/`)),
      handler: (req, res, ctx) => r.dispatch(req, res, ctx),
    },
  ];
};
