// Bearer authentication: the admin token (administration) or an agent token (one organization,
// optionally a workspace allowlist; opens runs and mints). Secrets are looked up by SHA-256 hash
// and the hashes compared in constant time; only ids ever reach logs.
import type { IncomingMessage } from 'node:http';
import type { Clock } from '../core/deps.js';
import type { AgentTokenRecord } from '../store/records/platform.js';
import type { Store } from '../store/types.js';
import { IssuerError } from './errors.js';
import { ADMIN_TOKEN_PREFIX, AGENT_TOKEN_PREFIX, hashesEqual, hashSecret } from './secrets.js';

export type Principal =
  | { kind: 'admin'; id: string }
  | { kind: 'agent'; id: string; token: AgentTokenRecord };

/** lastUsedAt is refreshed at most this often, so authentication is not a write per request. */
const TOUCH_INTERVAL_MS = 60_000;

export function bearer(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(header.trim());
  return m?.[1];
}

export async function authenticate(
  store: Store,
  clock: Clock,
  secret: string | undefined,
): Promise<Principal> {
  if (secret === undefined) throw new IssuerError('unauthorized');
  const hash = hashSecret(secret);
  if (secret.startsWith(ADMIN_TOKEN_PREFIX)) {
    const admin = await store.getBy('adminToken', 'hash', hash);
    if (admin && admin.revokedAt === undefined && hashesEqual(admin.hash, hash))
      return { kind: 'admin', id: admin.id };
  } else if (secret.startsWith(AGENT_TOKEN_PREFIX)) {
    const token = await store.getBy('agentToken', 'hash', hash);
    if (token && token.revokedAt === undefined && hashesEqual(token.hash, hash)) {
      const now = clock.now();
      if (token.lastUsedAt === undefined || now - token.lastUsedAt > TOUCH_INTERVAL_MS) {
        await store.update('agentToken', { ...token, lastUsedAt: now }).catch(() => undefined);
      }
      return { kind: 'agent', id: token.id, token };
    }
  }
  throw new IssuerError('unauthorized');
}

export function requireAdmin(p: Principal): void {
  if (p.kind !== 'admin') throw new IssuerError('forbidden');
}

/** An agent token reaches only its organization and, when it has an allowlist, those workspaces. */
export function agentMayUse(p: Principal, orgId: string, workspaceId: string): boolean {
  if (p.kind === 'admin') return true;
  if (p.token.orgId !== orgId) return false;
  return p.token.workspaceIds.length === 0 || p.token.workspaceIds.includes(workspaceId);
}
