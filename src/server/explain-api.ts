// The operator's "why" API, admin token only: the audit log, explanations of recorded requests and
// of encoded authorization messages, simulations on this node's live IAM state, and trust-policy
// lint of an account. Mounted ahead of the issuer's /api/v1 router, on its own paths.

import { openAuthorizationMessage } from '../cloud/authz/denial-message.js';
import { AuditFilterError, auditQuery, filtersFromParams } from '../cloud/explain/audit-query.js';
import { drawDecision } from '../cloud/explain/drawn.js';
import { lintAccount } from '../cloud/explain/lint-files.js';
import { renderRequest } from '../cloud/explain/render.js';
import { explainMessage, explainRequest } from '../cloud/explain/request.js';
import { hintsWithStore, simulate } from '../cloud/explain/simulate.js';
import { decisionStory } from '../cloud/explain/story.js';
import { parseTrace, TraceInputError } from '../cloud/explain/trace-input.js';
import { isAccountId } from '../core/ids.js';
import type { Mount } from '../http/transport.js';
import { authenticate, bearer, requireAdmin } from '../issuer/auth.js';
import { CLAIMS_SUPPORTED } from '../issuer/claims.js';
import { IssuerError, invalidField } from '../issuer/errors.js';
import { type Call, Router } from '../issuer/http/router.js';
import { asBody, onlyFields, optInt, optString, optStringArray, reqString } from '../issuer/input.js';
import type { AppEnv, MountFactory } from './app.js';

const PREFIX = '/api/v1';
const PATHS = ['/audit', '/explain', '/simulate', '/lint'].map((p) => `${PREFIX}${p}`);
const ARN_MAX = 2048;

const ok = (body: unknown) => ({ status: 200, body });
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const ACTION = /^[a-z0-9-]{1,64}:[A-Za-z0-9*?]{1,128}$/;

function check(field: string, values: readonly string[], re: RegExp, what: string): void {
  if (values.some((v) => !re.test(v))) throw invalidField(field, `expected ${what}`);
}

export const explainMounts: MountFactory = (env: AppEnv): readonly Mount[] => {
  const { cloud } = env.services;
  const r = new Router(PREFIX, env.config.bodyLimitBytes);
  const adm = (method: string, path: string, fn: (c: Call) => Promise<{ status: number; body: unknown }>) =>
    r.add(method, path, async (c) => {
      requireAdmin(await authenticate(env.store, env.clock, bearer(c.req)));
      return fn(c);
    });
  const search = (c: Call): URLSearchParams =>
    new URL(c.req.url ?? '/', 'http://request.invalid').searchParams;

  adm('GET', '/audit', async (c) => {
    try {
      const query = auditQuery(filtersFromParams(search(c)), env.clock.now());
      return ok({ items: await env.store.queryAudit(query) });
    } catch (err) {
      if (err instanceof AuditFilterError) throw invalidField(err.field, err.reason);
      throw err;
    }
  });

  adm('GET', '/explain/:requestId', async (c) => {
    const id = c.params.requestId ?? '';
    if (id.length === 0 || id.length > 128) throw invalidField('requestId', 'expected 1 to 128 characters');
    const found = await explainRequest(env.store, cloud.authorizer, id);
    if (!found) throw new IssuerError('not_found', 'requestId');
    // The same text `gatepass explain` prints, for the UI and other readers that want prose; and
    // each decision drawn (layers as steps, the deciding statement), for the UI's picture of it.
    const events = found.events.map((e) => (e.trace ? { ...e, drawn: drawDecision(e.trace) } : e));
    return ok({ ...found, events, lines: renderRequest(found) });
  });

  // A decision trace the caller holds (a reachability edge's), explained like a recorded one.
  adm('POST', '/explain/trace', async (c) => {
    const body = asBody(await c.body());
    onlyFields(body, ['trace']);
    let trace: ReturnType<typeof parseTrace>;
    try {
      trace = parseTrace(body.trace);
    } catch (err) {
      if (err instanceof TraceInputError) throw invalidField(err.field, 'not a decision trace');
      throw err;
    }
    const hints = await hintsWithStore(env.store, cloud.authorizer, trace);
    return ok({ trace, hints, drawn: drawDecision(trace), lines: decisionStory(trace) });
  });

  adm('POST', '/explain/message', async (c) => {
    const body = asBody(await c.body());
    onlyFields(body, ['message']);
    const encoded = reqString(body, 'message', 16_384);
    const opened = openAuthorizationMessage(cloud.keys, encoded);
    if (!opened) throw invalidField('message', 'not an encoded authorization message of this installation');
    const explained = await explainMessage(env.store, cloud.authorizer, opened);
    return ok(explained.trace ? { ...explained, drawn: drawDecision(explained.trace) } : explained);
  });

  adm('POST', '/simulate', async (c) => {
    const body = asBody(await c.body());
    onlyFields(body, [
      'token',
      'role',
      'chain',
      'actions',
      'resources',
      'sessionName',
      'chainDurationSeconds',
    ]);
    const chainDuration = optInt(body, 'chainDurationSeconds', 900, 43_200);
    const token = reqString(body, 'token', 20_000);
    const role = reqString(body, 'role', ARN_MAX);
    const chain = optStringArray(body, 'chain', 10) ?? [];
    const actions = optStringArray(body, 'actions', 50) ?? [];
    const resources = optStringArray(body, 'resources', 50) ?? [];
    const sessionName = optString(body, 'sessionName', 64);
    check('role', [role], ROLE_ARN, 'a role ARN');
    check('chain', chain, ROLE_ARN, 'role ARNs');
    check('actions', actions, ACTION, 'actions such as iam:ListRoles');
    check('resources', resources, /^(\*|arn:\S{1,2044})$/, '"*" or ARNs');
    if (sessionName !== undefined && !/^[\w+=,.@-]{2,64}$/.test(sessionName))
      throw invalidField('sessionName', 'must match [\\w+=,.@-]{2,64}');
    const result = await simulate(
      cloud.sts,
      {
        token,
        roleArn: role,
        chain,
        actions,
        resources,
        ...(sessionName !== undefined ? { sessionName } : {}),
        ...(chainDuration !== undefined ? { chainDurationSeconds: chainDuration } : {}),
      },
      env.clock.now(),
    );
    return ok(result);
  });

  adm('GET', '/lint', async (c) => {
    const account = search(c).get('account') ?? '';
    if (!isAccountId(account)) throw invalidField('account', 'expected a 12-digit account id');
    // This node evaluates every claim; `aws` also reports the condition keys AWS would ignore.
    const target = search(c).get('target') ?? 'gatepass';
    if (target !== 'aws' && target !== 'gatepass') throw invalidField('target', 'expected aws or gatepass');
    if (!(await env.store.get('account', account))) throw new IssuerError('not_found', 'account');
    const organizations = (await env.store.list('organization')).map((o) => o.name);
    const findings = await lintAccount(env.store, account, {
      claims: CLAIMS_SUPPORTED.filter((c) => !c.startsWith('https://')),
      organizations,
      ownIssuer: env.issuerUrl,
      target,
    });
    return ok({ items: findings });
  });

  return [
    {
      name: 'explain-api',
      match: (p) => PATHS.some((x) => p === x || p.startsWith(`${x}/`)),
      handler: (req, res, ctx) => r.dispatch(req, res, ctx),
    },
  ];
};
