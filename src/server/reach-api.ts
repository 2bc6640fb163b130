// POST /api/v1/reach (admin token): the reachability analysis on this node's live IAM state. The
// workspaces are every workspace the issuer knows (with their own token options, so a custom sub
// template or session tags are presented as they would be), plus those the caller names or the
// trust policies name; subjects of foreign issuers come as raw `sub` values.
import { analyzeReach, DEFAULT_MAX_DEPTH, MAX_DEPTH_LIMIT } from '../cloud/reach/analyze.js';
import { subjectsFor, workspaceLabel, workspacesFromTrusts } from '../cloud/reach/subjects.js';
import type { WorkspaceRef } from '../cloud/reach/types.js';
import type { Mount } from '../http/transport.js';
import { authenticate, bearer, requireAdmin } from '../issuer/auth.js';
import { DEFAULT_AUDIENCE, effectiveTokenOptions, phaseClaims } from '../issuer/claims.js';
import { invalidField } from '../issuer/errors.js';
import { Router } from '../issuer/http/router.js';
import { asBody, onlyFields, optBool, optInt, optString, optStringArray } from '../issuer/input.js';
import type { RunPhase, TokenOptions } from '../store/records/platform.js';
import type { AppEnv, MountFactory } from './app.js';

const PREFIX = '/api/v1';
const PATH = `${PREFIX}/reach`;
const NAME = /^[^/:*?\s][^/:*?]{0,89}$/;

function workspaceList(v: unknown): WorkspaceRef[] {
  if (v === undefined) return [];
  if (!Array.isArray(v))
    throw invalidField('workspaces', 'must be an array of {organization, project, workspace}');
  if (v.length > 1000) throw invalidField('workspaces', 'too many items (max 1000)');
  return v.map((w, i) => {
    const o = (w ?? {}) as Record<string, unknown>;
    const ok = (x: unknown): x is string => typeof x === 'string' && NAME.test(x);
    if (
      typeof w !== 'object' ||
      Object.keys(o).some((k) => !['organization', 'project', 'workspace'].includes(k))
    )
      throw invalidField(`workspaces[${i}]`, 'expected {organization, project, workspace}');
    if (!ok(o.organization) || !ok(o.project) || !ok(o.workspace))
      throw invalidField(`workspaces[${i}]`, 'organization, project and workspace are names without / : * ?');
    return { organization: o.organization, project: o.project, workspace: o.workspace };
  });
}

export const reachMounts: MountFactory = (env: AppEnv): readonly Mount[] => {
  const r = new Router(PREFIX, env.config.bodyLimitBytes);
  r.add('POST', '/reach', async (c) => {
    requireAdmin(await authenticate(env.store, env.clock, bearer(c.req)));
    const { cloud } = env.services;
    const body = asBody(await c.body());
    onlyFields(body, ['workspaces', 'subjects', 'derive', 'issuers', 'audience', 'depth']);
    const named = workspaceList(body.workspaces);
    const subs = optStringArray(body, 'subjects', 100) ?? [];
    if (subs.some((s) => s.length < 6 || s.length > 255))
      throw invalidField('subjects', 'a token subject has 6 to 255 characters');
    const issuers = optStringArray(body, 'issuers', 10) ?? [];
    if (issuers.some((i) => !/^https:\/\/\S{1,2000}$/.test(i)))
      throw invalidField('issuers', 'expected https:// URLs');
    const audience = optString(body, 'audience', 255) ?? DEFAULT_AUDIENCE;
    const depth = optInt(body, 'depth', 1, MAX_DEPTH_LIMIT) ?? DEFAULT_MAX_DEPTH;
    const derive = optBool(body, 'derive') ?? true;

    // The issuer's own workspaces, with the token options their tokens are minted with.
    const options = new Map<string, TokenOptions>();
    const orgs = new Map((await env.store.list('organization')).map((o) => [o.id, o]));
    const projects = new Map((await env.store.list('project')).map((p) => [p.id, p]));
    const known: WorkspaceRef[] = [];
    for (const ws of await env.store.list('workspace')) {
      const org = orgs.get(ws.orgId);
      const project = projects.get(ws.projectId);
      if (!org || !project) continue;
      const ref = { organization: org.name, project: project.name, workspace: ws.name };
      options.set(workspaceLabel(ref), effectiveTokenOptions(org.tokenOptions, ws.tokenOptions));
      known.push(ref);
    }
    const derived = derive ? await workspacesFromTrusts(env.store) : [];
    const all = new Map([...known, ...named, ...derived].map((w) => [workspaceLabel(w), w]));
    const subjects = subjectsFor(
      [...all.values()],
      subs,
      (ws, phase) =>
        phaseClaims(
          {
            organization: { id: 'org-reach', name: ws.organization },
            project: { id: 'prj-reach', name: ws.project },
            workspace: { id: 'ws-reach', name: ws.workspace },
            phase: phase as RunPhase,
          },
          options.get(workspaceLabel(ws)) ?? {},
        ),
      true,
    );
    const result = await analyzeReach(cloud.sts, {
      subjects,
      issuers: issuers.length > 0 ? issuers : [env.issuerUrl],
      audience,
      maxDepth: depth,
      now: env.clock.now(),
    });
    return { status: 200, body: result };
  });
  return [
    { name: 'reach-api', match: (p) => p === PATH, handler: (req, res, ctx) => r.dispatch(req, res, ctx) },
  ];
};
