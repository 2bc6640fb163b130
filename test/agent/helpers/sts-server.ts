// A small STS for agent tests: real HTTP on 127.0.0.1, the Query protocol, signatures checked with
// gatepass's own SigV4 verifier (src/core/sigv4), credentials it mints itself with a chosen lifetime.
// It records every call so tests can see what the agent (or an SDK) asked for.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sigV4Error } from '../../../src/core/query/sigv4-errors.js';
import { renderError, renderResponse } from '../../../src/core/query/xml.js';
import { isSigV4Failure, splitTarget, verifySigV4 } from '../../../src/core/sigv4/index.js';

export interface StsCall {
  action: string;
  params: Record<string, string>;
  /** The role of the credentials that signed the call (undefined: unsigned). */
  caller?: string;
  /** The access key that signed the call. */
  accessKeyId?: string;
  signatureError?: string;
}

interface Session {
  secret: string;
  roleArn: string;
  sessionName: string;
}

export interface TestSts {
  url: string;
  calls: StsCall[];
  /** Lifetime of minted credentials, seconds. */
  lifetimeSeconds: number;
  /** Role ARNs that refuse to be assumed. */
  denied: Set<string>;
  /** Tokens given to RevokeRun. */
  revoked: string[];
  /** The Scope of each RevokeRun (Run when absent), in the order of `revoked`. */
  revokedScopes: string[];
  /** Clock used for expirations and signature checks. */
  now: () => number;
  /** Answer RevokeRun with InvalidAction, as AWS would. */
  noRevokeRun: boolean;
  /** Answer this many of the next RevokeRun calls 503 ServiceUnavailable, revoking nothing. */
  revokeRunFailures: number;
  /** How many RevokeRun calls arrived (answered or not). */
  revokeRunCalls: number;
  close(): Promise<void>;
}

const NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const accountOf = (arn: string): string => arn.split(':')[4] ?? '';
const roleName = (arn: string): string => arn.split('/').pop() ?? '';

export async function startTestSts(): Promise<TestSts> {
  const sessions = new Map<string, Session>();
  let counter = 0;
  const sts: TestSts = {
    url: '',
    calls: [],
    lifetimeSeconds: 3600,
    denied: new Set(),
    revoked: [],
    revokedScopes: [],
    now: () => Date.now(),
    noRevokeRun: false,
    revokeRunFailures: 0,
    revokeRunCalls: 0,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };

  const mint = (roleArn: string, sessionName: string) => {
    counter += 1;
    const accessKeyId = `ASIATEST${String(counter).padStart(12, '0')}`;
    const secret = randomBytes(20).toString('base64');
    sessions.set(accessKeyId, { secret, roleArn, sessionName });
    return {
      Credentials: {
        AccessKeyId: accessKeyId,
        SecretAccessKey: secret,
        SessionToken: `session-${counter}-${randomBytes(8).toString('hex')}`,
        Expiration: new Date(sts.now() + sts.lifetimeSeconds * 1000),
      },
      AssumedRoleUser: {
        AssumedRoleId: `AROATEST:${sessionName}`,
        Arn: `arn:aws:sts::${accountOf(roleArn)}:assumed-role/${roleName(roleArn)}/${sessionName}`,
      },
    };
  };

  const server: Server = createServer(async (req, res) => {
    const raw = await body(req);
    const params = Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
    const action = params.Action ?? '';
    const call: StsCall = { action, params };
    sts.calls.push(call);
    const reply = (status: number, xml: string) => {
      res.writeHead(status, { 'content-type': 'text/xml' });
      res.end(xml);
    };
    const fail = (status: number, code: string, message: string) =>
      reply(
        status,
        renderError({
          namespace: NS,
          type: status >= 500 ? 'Receiver' : 'Sender',
          code,
          message,
          requestId: 'req-1',
        }),
      );

    let caller: Session | undefined;
    if (action === 'AssumeRole' || action === 'GetCallerIdentity') {
      const { path, query } = splitTarget(req.url ?? '/');
      try {
        const ok = await verifySigV4(
          { method: req.method ?? 'POST', path, query, rawHeaders: req.rawHeaders, body: raw },
          (id) => {
            const s = sessions.get(id);
            return s ? { secretAccessKey: s.secret } : undefined;
          },
          { now: sts.now(), expectedService: 'sts' },
        );
        caller = sessions.get(ok.accessKeyId);
        call.accessKeyId = ok.accessKeyId;
        if (caller) call.caller = caller.roleArn;
      } catch (err) {
        // The verifier reports why as data; the Query protocol owns AWS's code for it.
        call.signatureError = isSigV4Failure(err)
          ? sigV4Error(err.reason).code
          : ((err as { code?: string }).code ?? 'error');
        fail(403, call.signatureError, 'The request signature we calculated does not match.');
        return;
      }
    }
    const ok = (result: Record<string, unknown>) =>
      reply(200, renderResponse({ action, namespace: NS, requestId: 'req-1', result: result as never }));

    switch (action) {
      case 'AssumeRoleWithWebIdentity': {
        const roleArn = params.RoleArn ?? '';
        if (!params.WebIdentityToken) return fail(400, 'InvalidIdentityToken', 'No token.');
        if (sts.denied.has(roleArn))
          return fail(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
        return ok(mint(roleArn, params.RoleSessionName ?? 'x'));
      }
      case 'AssumeRole': {
        const roleArn = params.RoleArn ?? '';
        if (sts.denied.has(roleArn))
          return fail(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRole');
        return ok(mint(roleArn, params.RoleSessionName ?? 'x'));
      }
      case 'GetCallerIdentity': {
        const arn = caller?.roleArn ?? '';
        return ok({
          UserId: `AROATEST:${caller?.sessionName ?? ''}`,
          Account: accountOf(arn),
          Arn: `arn:aws:sts::${accountOf(arn)}:assumed-role/${roleName(arn)}/${caller?.sessionName ?? ''}`,
        });
      }
      case 'RevokeRun': {
        sts.revokeRunCalls++;
        if (sts.noRevokeRun)
          return fail(400, 'InvalidAction', 'Could not find operation RevokeRun for version 2011-06-15');
        if (sts.revokeRunFailures > 0) {
          sts.revokeRunFailures--;
          return fail(503, 'ServiceUnavailable', 'Service is unable to handle request.');
        }
        sts.revoked.push(params.WebIdentityToken ?? '');
        sts.revokedScopes.push(params.Scope ?? 'Run');
        return ok({ RunId: 'run-test' });
      }
      default:
        return fail(400, 'InvalidAction', `Could not find operation ${action}`);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sts.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return sts;
}
