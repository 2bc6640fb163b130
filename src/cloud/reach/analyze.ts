// Reachability: which roles each subject (a workspace's run phase, or a foreign issuer's `sub`) can
// assume by web identity, then which roles those sessions reach by sts:AssumeRole, to a bounded
// depth. Every hop goes through the very STS functions the endpoint runs (trust policy, RCPs, the
// caller's identity policies, boundary, session policies and SCPs), as `gatepass simulate` does;
// nothing is issued or recorded. Token signatures and times are not policy: the analysis presents
// the claims as a valid token of each issuer would carry them, and checks only the audience.
import { parseArn } from '../../core/arn.js';
import type { Decision, StatementTrace } from '../../core/policy/index.js';
import { storedTrace } from '../../core/policy/stored-trace.js';
import { AwsError, awsError } from '../../core/query/errors.js';
import type { RoleRecord } from '../../store/records/iam.js';
import type { Caller, SessionClaims } from '../caller/caller.js';
import { dryRunDeps, sessionCaller } from '../explain/simulate.js';
import { type PeekedJwt, peekJwt } from '../oidc/verify.js';
import { scpLevelsFor } from '../org/index.js';
import { assumeRole } from '../sts/assume-role.js';
import type { StsDeps, VerifiedToken } from '../sts/deps.js';
import { assumeRoleWithWebIdentity } from '../sts/web-identity.js';
import { findingsOf } from './findings.js';
import type {
  ActionCheck,
  AllowingStatement,
  ReachEdge,
  ReachResult,
  ReachSubject,
  RoleSummary,
  SubjectReach,
} from './types.js';

export interface ReachInput {
  subjects: readonly ReachSubject[];
  /** Issuer URLs (`iss`) the subjects' tokens come from; each subject is tried with each. */
  issuers: readonly string[];
  audience: string;
  /** Web identity is depth 1; each chained AssumeRole adds one. */
  maxDepth: number;
  now: number;
}

export const DEFAULT_MAX_DEPTH = 3;
export const MAX_DEPTH_LIMIT = 10;
const SESSION = 'gatepass-reach';
const CHAIN_LIMIT = 3600;

/** An unsigned compact JWT: only its claims are read (see `presentedClaims`). */
function unsignedToken(claims: Record<string, unknown>): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.unsigned`;
}

/** The verifier's audience rule (the aud that matched a client id) without signature or times. */
async function presentedClaims(
  token: string | PeekedJwt,
  provider: { clientIds: readonly string[] },
): Promise<VerifiedToken> {
  const peeked = typeof token === 'string' ? peekJwt(token) : token;
  if (!peeked) throw awsError('notAJwt');
  const audClaim = peeked.claims.aud;
  const auds = typeof audClaim === 'string' ? [audClaim] : Array.isArray(audClaim) ? audClaim : [];
  const aud = auds.find((a): a is string => typeof a === 'string' && provider.clientIds.includes(a));
  if (aud === undefined) throw awsError('incorrectAudience');
  return { claims: peeked.claims, kid: 'reach', aud };
}

const conditionText = (s: StatementTrace): string[] =>
  s.conditions.map((c) => `${c.operator} ${c.key} = ${c.expected.join(' | ')}`);

/** The matched Allow statements of the trust (resource) and identity layers of the first decision. */
function allowingStatements(decision: Decision | undefined): AllowingStatement[] {
  const out: AllowingStatement[] = [];
  for (const layer of decision?.layers ?? []) {
    if (layer.layer !== 'resource' && layer.layer !== 'identity') continue;
    const s = layer.statements.find((st) => st.matched && st.effect === 'Allow');
    if (s)
      out.push({
        policy: s.policy,
        index: s.index,
        ...(s.sid !== undefined ? { sid: s.sid } : {}),
        conditions: conditionText(s),
      });
  }
  return out;
}

interface Attempt {
  claims: Omit<SessionClaims, 'sid' | 'accessKeyId'>;
  decisions: Decision[];
}

/** A caller session without what differs between subjects (`sub`, `jti`, the run): the memo key. */
function sessionShape(caller: Caller): string {
  if (caller.kind !== 'role-session') return caller.arn;
  const { sid: _s, accessKeyId: _a, runId: _r, iat: _i, exp: _e, webIdentity, ...rest } = caller.session;
  const wi = webIdentity ? { ...webIdentity, sub: '', jti: '' } : undefined;
  return JSON.stringify([caller.roleArn, rest, wi]);
}

/** True when a decision checked a `…:sub` condition key (the one context key a subject alone sets). */
const decisionsReadSub = (ds: readonly Decision[]): boolean =>
  ds.some((d) =>
    d.layers.some((l) => l.statements.some((st) => st.conditions.some((c) => /:sub$/i.test(c.key)))),
  );

/** Any policy of the installation with a `${…}` variable (in a Resource or a condition value). */
async function usesPolicyVariables(store: StsDeps['store']): Promise<boolean> {
  const has = (text: string | undefined) => text?.includes('${') ?? false;
  for (const r of await store.list('role'))
    if (has(r.trustPolicy) || Object.values(r.inlinePolicies).some(has)) return true;
  for (const m of await store.list('managedPolicy')) if (m.versions.some((v) => has(v.document))) return true;
  for (const p of await store.list('orgPolicy')) if (has(p.content)) return true;
  return false;
}

interface Frontier {
  caller: Caller;
  roleArn: string;
  depth: number;
}

export async function analyzeReach(base: StsDeps, input: ReachInput): Promise<ReachResult> {
  const decisions: Decision[] = [];
  const sink: { issued?: Omit<SessionClaims, 'sid' | 'accessKeyId'> } = {};
  const deps: StsDeps = {
    ...dryRunDeps(base, sink, decisions, 'ASIAREACH'),
    verifyToken: (token, provider) => presentedClaims(token, provider),
    runRevocation: () => undefined,
  };
  const store = base.store;
  const roles = (await store.list('role')).sort((a, b) => a.arn.localeCompare(b.arn));
  const providers = await store.list('oidcProvider');
  const meta = { now: input.now, secure: true, requestId: 'reach' };
  const iat = Math.floor(input.now / 1000);
  let lastDecisions: Decision[] = [];
  // Chained hops of sessions that differ only in their subject decide alike unless a decision read
  // the subject: kept per session shape, only when no policy uses variables (which read context
  // outside the condition trace).
  const memo = (await usesPolicyVariables(store)) ? undefined : new Map<string, Attempt | null>();

  /** One STS call: the session it would create, with the decisions it took; undefined if refused. */
  const attempt = async (call: () => Promise<unknown>): Promise<Attempt | undefined> => {
    decisions.length = 0;
    delete sink.issued;
    lastDecisions = decisions;
    try {
      await call();
    } catch (e) {
      if (e instanceof AwsError) return undefined;
      throw e;
    }
    const issued = sink.issued as Omit<SessionClaims, 'sid' | 'accessKeyId'> | undefined;
    return issued ? { claims: issued, decisions: [...decisions] } : undefined;
  };

  const edgeOf = (from: string, role: RoleRecord, depth: number, taken: Decision[]): ReachEdge => {
    const chained = depth > 1;
    return {
      from,
      to: role.arn,
      call: chained ? 'AssumeRole' : 'AssumeRoleWithWebIdentity',
      depth,
      maxSessionSeconds: chained ? Math.min(CHAIN_LIMIT, role.maxSessionDuration) : role.maxSessionDuration,
      chainCapped: chained && role.maxSessionDuration > CHAIN_LIMIT,
      allowedBy: allowingStatements(taken[0]),
      decisions: taken.map(storedTrace),
    };
  };

  const firstSession = new Map<string, Caller>();
  const results: SubjectReach[] = [];
  for (const subject of input.subjects) {
    for (const issuer of input.issuers) {
      const accounts = new Set(providers.filter((p) => p.url === issuer).map((p) => p.accountId));
      const token = unsignedToken({
        ...subject.claims,
        sub: subject.sub,
        iss: issuer,
        aud: input.audience,
        iat,
        nbf: iat,
        exp: iat + 3600,
      });
      const reach: SubjectReach = { subject: subject.label, sub: subject.sub, issuer, roles: [], edges: [] };
      const seen = new Set<string>();
      let frontier: Frontier[] = [];
      for (const role of roles) {
        if (!accounts.has(role.accountId)) continue;
        const got = await attempt(() =>
          assumeRoleWithWebIdentity(
            deps,
            { roleArn: role.arn, roleSessionName: SESSION, webIdentityToken: token },
            meta,
          ),
        );
        if (!got) continue;
        reach.edges.push(edgeOf(subject.label, role, 1, got.decisions));
        seen.add(role.arn);
        reach.roles.push(role.arn);
        const caller = sessionCaller(got.claims, 'ASIAREACH');
        if (!subject.probe && !firstSession.has(role.arn)) firstSession.set(role.arn, caller);
        frontier.push({ caller, roleArn: role.arn, depth: 1 });
      }
      // Probes only ask whether a trust admits them; what they would chain into is their neighbour's.
      if (subject.probe) frontier = [];
      while (frontier.length > 0) {
        const next: Frontier[] = [];
        for (const from of frontier) {
          if (from.depth >= input.maxDepth) continue;
          for (const role of roles) {
            const key = memo ? `${sessionShape(from.caller)}\u0000${role.arn}` : '';
            let got = memo?.get(key);
            if (got === undefined) {
              got = await attempt(() =>
                assumeRole(
                  deps,
                  from.caller,
                  { roleArn: role.arn, roleSessionName: SESSION, durationSeconds: CHAIN_LIMIT },
                  meta,
                ),
              );
              if (memo && !decisionsReadSub(lastDecisions)) memo.set(key, got ?? null);
            }
            if (!got) continue;
            reach.edges.push(edgeOf(from.roleArn, role, from.depth + 1, got.decisions));
            if (seen.has(role.arn)) continue;
            seen.add(role.arn);
            reach.roles.push(role.arn);
            const caller = sessionCaller(got.claims, 'ASIAREACH');
            if (!firstSession.has(role.arn)) firstSession.set(role.arn, caller);
            next.push({ caller, roleArn: role.arn, depth: from.depth + 1 });
          }
        }
        frontier = next;
      }
      results.push(reach);
    }
  }

  const probes = new Set(input.subjects.filter((s) => s.probe).map((s) => s.label));
  const reachedBy = new Map<string, Set<string>>();
  for (const r of results) {
    if (probes.has(r.subject)) continue;
    for (const arn of r.roles) reachedBy.set(arn, (reachedBy.get(arn) ?? new Set()).add(r.subject));
  }
  const summaries: RoleSummary[] = [];
  for (const role of roles) {
    const by = [...(reachedBy.get(role.arn) ?? [])];
    summaries.push(await summarize(base, role, firstSession.get(role.arn), by, meta));
  }
  const result: ReachResult = {
    issuers: [...input.issuers],
    maxDepth: input.maxDepth,
    subjects: results,
    roles: summaries,
    findings: [],
  };
  result.findings = await findingsOf(base, input.subjects, result);
  return result;
}

/** What a session of the role may do: each Allow of its own policies, decided by the authorizer. */
async function summarize(
  base: StsDeps,
  role: RoleRecord,
  reached: Caller | undefined,
  reachedBy: string[],
  meta: { now: number; secure: boolean },
): Promise<RoleSummary> {
  const caller =
    reached ??
    sessionCaller(
      {
        accountId: role.accountId,
        roleId: role.id,
        roleName: role.name,
        rolePath: role.path,
        sessionName: SESSION,
        iat: Math.floor(meta.now / 1000),
        exp: Math.floor(meta.now / 1000) + 3600,
        chainDepth: 1,
        tags: {},
        transitiveTagKeys: [],
      },
      'ASIAREACH',
    );
  const label = `role/${role.name}`;
  const { actions, denied, scps } = await base.store.transaction(async (tx) => {
    const own = await base.authorizer.roleOrUserPolicies(tx, role, label);
    const checks: ActionCheck[] = [];
    const deny: string[] = [];
    const done = new Set<string>();
    for (const policy of own.identity) {
      for (const st of policy.statements) {
        const patterns = st.action ?? st.notAction?.map((a) => `NotAction ${a}`) ?? [];
        if (st.effect === 'Deny') {
          deny.push(...patterns);
          continue;
        }
        if (!st.action) continue;
        const resource = st.resource?.[0] ?? '*';
        for (const action of st.action) {
          const key = `${action}\u0000${resource}`;
          if (done.has(key)) continue;
          done.add(key);
          // The pattern itself as the request's action: it matches every statement that covers it.
          const d = await base.authorizer.authorize(tx, caller, action, resource, meta);
          const denyingStatement = d.layers
            .find((l) => l.layer === d.layer)
            ?.statements.find((s) => s.matched && s.effect === 'Deny');
          checks.push({
            action,
            resource,
            allowed: d.effect === 'Allow',
            ...(d.effect !== 'Allow' ? { deniedBy: d.layer } : {}),
            ...(denyingStatement ? { deniedByPolicy: denyingStatement.policy } : {}),
          });
        }
      }
    }
    const levels = await scpLevelsFor(tx, role.accountId);
    const names = [...new Set((levels ?? []).flat().map((p) => p.name))];
    return { actions: checks, denied: deny, scps: names };
  });
  const account = await base.store.get('account', role.accountId);
  return {
    arn: role.arn,
    account: role.accountId,
    ...(account ? { accountName: account.name } : {}),
    maxSessionDuration: role.maxSessionDuration,
    actions,
    denied,
    scps,
    reachedBy,
  };
}

export const accountOf = (arn: string): string => parseArn(arn)?.account ?? '';
