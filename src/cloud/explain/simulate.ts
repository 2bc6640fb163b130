// `gatepass simulate`: walks AssumeRoleWithWebIdentity, each chained AssumeRole and then the
// actions, through the very STS functions and authorizer the endpoint uses, so a simulation cannot
// drift from what the server decides. Nothing is issued or recorded: credentials stay in memory
// (the next hop's caller is built from the claims that would have been sealed) and audit writes are
// dropped.
import { assumedRoleArn, parseArn, roleArn } from '../../core/arn.js';
import { type Decision, evaluate, lintTrustPolicy, parsePolicy } from '../../core/policy/index.js';
import { type StoredTrace, storedTrace } from '../../core/policy/stored-trace.js';
import { AwsError } from '../../core/query/errors.js';
import type { Store, StoreOps } from '../../store/types.js';
import type { Authorizer, RequestMeta } from '../authz/authorizer.js';
import type { Caller, SessionClaims } from '../caller/caller.js';
import { assumeRole } from '../sts/assume-role.js';
import type { StsDeps } from '../sts/deps.js';
import { peekClaims } from '../sts/refusal.js';
import { assumeRoleWithWebIdentity, providerPrefix, unverifiedIssuer } from '../sts/web-identity.js';
import { type Alternative, type HintContext, hintsFor, presentedContext } from './hints.js';
import { tokenHints } from './token-failure.js';

export interface SimulateInput {
  token: string;
  roleArn: string;
  chain?: readonly string[];
  actions?: readonly string[];
  resources?: readonly string[];
  sessionName?: string;
  /** DurationSeconds of each chained AssumeRole (AWS caps chained sessions at one hour). */
  chainDurationSeconds?: number;
}

export interface SimStep {
  step: number;
  call: 'AssumeRoleWithWebIdentity' | 'AssumeRole' | 'Authorize';
  action: string;
  resource: string;
  caller: string;
  allowed: boolean;
  /** The AWS error the client would get (without the encoded message, which the story replaces). */
  error?: { code: string; message: string };
  assumedRoleArn?: string;
  /** Every policy decision the step took (e.g. sts:AssumeRoleWithWebIdentity, then sts:TagSession). */
  decisions: StoredTrace[];
  hints: string[];
  /** Lint errors of the trust policy that let this token in: an Allow that others would get too. */
  warnings?: string[];
}

export interface SimResult {
  allowed: boolean;
  steps: SimStep[];
}

const DEFAULT_SESSION = 'gatepass-simulate';

/** The store with audit writes dropped (also inside transactions). */
export function withoutAuditWrites<T extends StoreOps>(store: T): T {
  const handler: ProxyHandler<StoreOps> = {
    get(target, prop) {
      if (prop === 'appendAudit') return async () => undefined;
      if (prop === 'transaction') {
        return <R>(fn: (tx: StoreOps) => Promise<R>) =>
          (target as Store).transaction((tx) => fn(new Proxy(tx, handler)));
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  };
  return new Proxy(store, handler) as T;
}

export function sessionCaller(
  claims: Omit<SessionClaims, 'sid' | 'accessKeyId'>,
  accessKeyId: string,
): Caller {
  return {
    kind: 'role-session',
    accountId: claims.accountId,
    arn: assumedRoleArn(claims.accountId, claims.roleName, claims.sessionName),
    roleArn: roleArn(claims.accountId, claims.rolePath, claims.roleName),
    accessKeyId,
    session: { ...claims, sid: 'simulated', accessKeyId },
  };
}

const withoutEncoded = (message: string): string =>
  message.replace(/ Encoded authorization failure message: \S+$/, '');

function errorHints(e: AwsError, resource: string): string[] {
  if (e.detail?.reason === 'role-not-found')
    return [`there is no role ${resource}: check the account id, path and name of the ARN`];
  if (/1 hour session limit/.test(e.message))
    return ['role chaining caps a session at one hour: ask for DurationSeconds of 3600 or less'];
  if (/MaxSessionDuration/.test(e.message))
    return ["ask for a shorter session, or raise the role's MaxSessionDuration"];
  return [];
}

/** Rules that mean "someone else's token gets in too" (spec-notes §7.1); unknown claims are not. */
const VULNERABLE = new Set([
  'no-sub-condition',
  'aud-only-shared-issuer',
  'sub-any-organization',
  'org-prefix-without-colon',
  'set-operator-on-single-valued-key',
  'principal-wildcard',
]);

/** Vulnerability findings of a role's trust policy (empty when it pins what it should). */
export async function trustWarnings(store: Store, roleArn: string): Promise<string[]> {
  const role = await store.getBy('role', 'arn', roleArn);
  if (!role) return [];
  const providers = await store.list('oidcProvider', { index: { name: 'account', value: role.accountId } });
  const policy = parsePolicy(role.trustPolicy, 'trust', { maxSize: Number.MAX_SAFE_INTEGER });
  return lintTrustPolicy(
    policy,
    providers.map((p) => ({ prefix: providerPrefix(p.url) })),
  )
    .filter((f) => f.severity === 'error' && VULNERABLE.has(f.rule))
    .map((f) => `${f.rule}: ${f.message}`);
}

/** Roles of the same account whose trust allows the values a denied web identity request presented. */
async function alternatives(store: Store, authorizer: Authorizer, t: StoredTrace): Promise<Alternative[]> {
  if (t.action !== 'sts:AssumeRoleWithWebIdentity' || t.principal.id === undefined) return [];
  const account = parseArn(t.resource)?.account ?? '';
  const roles = await store.list('role', { index: { name: 'account', value: account } });
  const context = presentedContext(t);
  const out: Alternative[] = [];
  for (const role of roles) {
    if (role.arn === t.resource) continue;
    const trust = authorizer.policy(role.trustPolicy, 'trust', `trust policy of role/${role.name}`);
    const d = evaluate(
      {
        action: t.action,
        resource: role.arn,
        principal: { type: 'Federated', ids: [t.principal.id] },
        context,
      },
      { resource: trust, resourceAccount: account },
    );
    if (d.effect === 'Allow') out.push({ arn: role.arn, trustPolicy: role.trustPolicy });
  }
  return out;
}

/** Hints for a stored denial, with the store at hand to name roles that would allow it. */
export async function hintsWithStore(
  store: Store,
  authorizer: Authorizer,
  t: StoredTrace,
): Promise<string[]> {
  const ctx: HintContext = {};
  if (t.effect !== 'Allow' && t.layer === 'resource') {
    const alt = await alternatives(store, authorizer, t);
    if (alt.length > 0) ctx.alternatives = alt;
  }
  return hintsFor(t, ctx);
}

/**
 * The STS deps with nothing issued, audited or revoked: `issue` hands the claims it would seal to
 * `sink`, every decision goes to `decisions`.
 */
export function dryRunDeps(
  base: StsDeps,
  sink: { issued?: Omit<SessionClaims, 'sid' | 'accessKeyId'> },
  decisions: Decision[],
  accessKeyId: string,
): StsDeps {
  return {
    ...base,
    store: withoutAuditWrites(base.store),
    async issue(claims) {
      sink.issued = claims;
      return { accessKeyId, secretAccessKey: '', sessionToken: '', expiration: claims.exp * 1000 };
    },
    audit: async () => undefined,
    revokeRun: async () => undefined,
    // A dry run records nothing: not even which issuer's run obtained a session.
    noteRun: async () => undefined,
    onDecision: (d) => decisions.push(d),
  };
}

export async function simulate(base: StsDeps, input: SimulateInput, now: number): Promise<SimResult> {
  const decisions: Decision[] = [];
  // Written by `issue` inside the STS call (a holder, so TypeScript does not narrow it away).
  const sink: { issued?: Omit<SessionClaims, 'sid' | 'accessKeyId'> } = {};
  const takeIssued = () => sink.issued;
  const deps = dryRunDeps(base, sink, decisions, 'ASIASIMULATED');
  const meta = (n: number): RequestMeta & { requestId: string } => ({
    now,
    secure: true,
    requestId: `simulate-${n}`,
  });
  const sessionName = input.sessionName ?? DEFAULT_SESSION;
  const steps: SimStep[] = [];

  /** Runs one call; returns the session it would have created, or undefined when it failed. */
  const run = async (
    step: Omit<SimStep, 'allowed' | 'decisions' | 'hints' | 'step'>,
    call: () => Promise<unknown>,
  ): Promise<Caller | undefined> => {
    decisions.length = 0;
    delete sink.issued;
    const s: SimStep = { step: steps.length + 1, ...step, allowed: false, decisions: [], hints: [] };
    steps.push(s);
    try {
      const result = await call();
      s.allowed = true;
      if (result && typeof result === 'object' && 'effect' in result) {
        // A plain authorization: the decision is the result.
        const d = result as Decision;
        s.allowed = d.effect === 'Allow';
        decisions.push(d);
      }
    } catch (e) {
      if (!(e instanceof AwsError)) throw e;
      s.error = { code: e.code, message: withoutEncoded(e.message) };
      const token =
        decisions.length === 0 && step.call === 'AssumeRoleWithWebIdentity'
          ? await tokenHints(base.store, e, peekClaims(input.token), input.roleArn)
          : [];
      s.hints = token.length > 0 ? token : errorHints(e, step.resource);
    }
    s.decisions = decisions.map(storedTrace);
    const denied = s.decisions.find((d) => d.effect !== 'Allow');
    if (denied) s.hints = await hintsWithStore(base.store, base.authorizer, denied);
    if (s.allowed && step.call === 'AssumeRoleWithWebIdentity') {
      const warnings = await trustWarnings(base.store, step.resource);
      if (warnings.length > 0) s.warnings = warnings;
    }
    const issued = takeIssued();
    if (s.allowed && issued) {
      s.assumedRoleArn = assumedRoleArn(issued.accountId, issued.roleName, issued.sessionName);
      return sessionCaller(issued, 'ASIASIMULATED');
    }
    return undefined;
  };

  const iss = unverifiedIssuer(input.token);
  let caller = await run(
    {
      call: 'AssumeRoleWithWebIdentity',
      action: 'sts:AssumeRoleWithWebIdentity',
      resource: input.roleArn,
      caller: iss ? `web identity from ${providerPrefix(iss)}` : 'web identity',
    },
    () =>
      assumeRoleWithWebIdentity(
        deps,
        { roleArn: input.roleArn, roleSessionName: sessionName, webIdentityToken: input.token },
        meta(1),
      ),
  );
  for (const target of input.chain ?? []) {
    if (!caller) break;
    const from: Caller = caller;
    caller = await run(
      { call: 'AssumeRole', action: 'sts:AssumeRole', resource: target, caller: from.arn },
      () =>
        assumeRole(
          deps,
          from,
          {
            roleArn: target,
            roleSessionName: sessionName,
            ...(input.chainDurationSeconds !== undefined
              ? { durationSeconds: input.chainDurationSeconds }
              : {}),
          },
          meta(steps.length + 1),
        ),
    );
  }
  if (caller) {
    const from: Caller = caller;
    for (const action of input.actions ?? []) {
      for (const resource of input.resources?.length ? input.resources : ['*']) {
        await run({ call: 'Authorize', action, resource, caller: from.arn }, () =>
          base.store.transaction((tx) =>
            base.authorizer.authorize(tx, from, action, resource, meta(steps.length + 1)),
          ),
        );
      }
    }
  }
  const expected = 1 + (input.chain?.length ?? 0);
  const allowed = steps.length >= expected && steps.every((s) => s.allowed);
  return { allowed, steps };
}
