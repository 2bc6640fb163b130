// POST /api/v1/revocations (admin token): `gatepass revoke` against a running node. The revocation
// and its audit event commit in one transaction; this node applies it at once, the others from the
// store's change feed within about a second.
import {
  describeRevocation,
  operatorRevocation,
  RevokeInputError,
  revocationEvent,
} from '../cloud/sessions/operator-revoke.js';
import type { Mount } from '../http/transport.js';
import { authenticate, bearer, requireAdmin } from '../issuer/auth.js';
import { invalidField } from '../issuer/errors.js';
import { Router } from '../issuer/http/router.js';
import { asBody, onlyFields, optString, reqString } from '../issuer/input.js';
import type { AppEnv, MountFactory } from './app.js';

const PREFIX = '/api/v1';
const PATH = `${PREFIX}/revocations`;

export const revokeMounts: MountFactory = (env: AppEnv): readonly Mount[] => {
  const r = new Router(PREFIX, env.config.bodyLimitBytes);
  r.add('POST', '/revocations', async (c) => {
    const principal = await authenticate(env.store, env.clock, bearer(c.req));
    requireAdmin(principal);
    const { cloud } = env.services;
    const body = asBody(await c.body());
    onlyFields(body, ['scope', 'subject', 'before', 'issuer', 'phase', 'reason']);
    const input = {
      scope: reqString(body, 'scope', 16),
      subject: reqString(body, 'subject', 2048),
      ...optionals(body),
    };
    let revocation: ReturnType<typeof operatorRevocation>;
    try {
      revocation = operatorRevocation(input, env.clock.now());
    } catch (err) {
      if (err instanceof RevokeInputError) throw invalidField(err.field, err.reason);
      throw err;
    }
    const event = revocationEvent(revocation, c.ctx.requestId, `admin-token:${principal.id}`);
    await env.store.transaction(async (tx) => {
      await tx.put('revocation', revocation.record);
      await tx.appendAudit([event]);
    });
    // Applied here now rather than at the next feed poll: the caller's next request may land here.
    await cloud.revocations.sync();
    return {
      status: 201,
      body: {
        revocation: revocation.record,
        requestId: c.ctx.requestId,
        message: describeRevocation(revocation),
      },
    };
  });
  return [
    { name: 'revoke-api', match: (p) => p === PATH, handler: (req, res, ctx) => r.dispatch(req, res, ctx) },
  ];
};

function optionals(body: ReturnType<typeof asBody>) {
  const before = optString(body, 'before', 64);
  const issuer = optString(body, 'issuer', 2048);
  const phase = optString(body, 'phase', 16);
  const reason = optString(body, 'reason', 256);
  return {
    ...(before !== undefined ? { before } : {}),
    ...(issuer !== undefined ? { issuer } : {}),
    ...(phase !== undefined ? { phase } : {}),
    ...(reason !== undefined ? { reason } : {}),
  };
}
