// AssumeRole: a SigV4-authenticated caller becomes a role, in its own account or another. Both sides
// must allow (the engine applies AWS's same-/cross-account rules); role chaining caps the session at
// one hour; transitive tags and the source identity follow the chain.
import { assumedRoleArn, parseArn } from '../../core/arn.js';
import { type ContextValue, type Decision, evaluate } from '../../core/policy/index.js';
import { storedTrace } from '../../core/policy/stored-trace.js';
import { AwsError, awsError } from '../../core/query/errors.js';
import { markRecorded } from '../audit/audit-log.js';
import type { RequestMeta } from '../authz/authorizer.js';
import type { Caller, SessionClaims } from '../caller/caller.js';
import {
  accessDenied,
  duplicateKey,
  findRole,
  policyDigest,
  type SessionPolicyInput,
  sessionPolicies,
} from './common.js';
import type { IssuedCredentials, StsDeps } from './deps.js';

export interface AssumeRoleInput extends SessionPolicyInput {
  roleArn: string;
  roleSessionName: string;
  durationSeconds?: number;
  externalId?: string;
  tags?: { Key: string; Value: string }[];
  transitiveTagKeys?: string[];
  sourceIdentity?: string;
  serialNumber?: string;
  tokenCode?: string;
}

export interface AssumeRoleResult {
  credentials: IssuedCredentials;
  assumedRoleArn: string;
  assumedRoleId: string;
  packedPolicySize?: number;
  sourceIdentity?: string;
}

const CHAIN_LIMIT = 3600;

export async function assumeRole(
  deps: StsDeps,
  caller: Caller,
  input: AssumeRoleInput,
  meta: RequestMeta & { requestId: string },
): Promise<AssumeRoleResult> {
  const parent = caller.kind === 'role-session' ? caller.session : undefined;
  const duration = input.durationSeconds ?? 3600;
  const denyText = `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${input.roleArn}`;

  // Tags: request tags plus the caller's inherited transitive tags; a clash is an error.
  const requestTags: Record<string, string> = {};
  for (const t of input.tags ?? []) requestTags[t.Key] = t.Value;
  const dup = duplicateKey((input.tags ?? []).map((t) => t.Key));
  if (dup)
    throw new AwsError('InvalidParameterValue', `Duplicate tag keys found. Tag key ${dup} is repeated.`);
  const inherited: Record<string, string> = {};
  for (const k of parent?.transitiveTagKeys ?? []) {
    const entry = Object.entries(parent?.tags ?? {}).find(([tk]) => tk.toLowerCase() === k.toLowerCase());
    if (entry) inherited[entry[0]] = entry[1];
  }
  const inheritedLower = new Set(Object.keys(inherited).map((k) => k.toLowerCase()));
  const clash = Object.keys(requestTags).find((k) => inheritedLower.has(k.toLowerCase()));
  if (clash) {
    throw new AwsError(
      'InvalidParameterValue',
      `One or more session tags conflict with transitive tags inherited from the calling session: ${clash}.`,
    );
  }
  const requestTagLower = new Set(Object.keys(requestTags).map((k) => k.toLowerCase()));
  for (const k of input.transitiveTagKeys ?? []) {
    if (!requestTagLower.has(k.toLowerCase())) {
      throw new AwsError('InvalidParameterValue', `Transitive tag key ${k} is not one of the session tags.`);
    }
  }

  // The source identity is set once and then immutable along the chain.
  const sourceIdentity = parent?.sourceIdentity ?? input.sourceIdentity;
  if (
    parent?.sourceIdentity &&
    input.sourceIdentity !== undefined &&
    input.sourceIdentity !== parent.sourceIdentity
  ) {
    throw new AwsError(
      'InvalidParameterValue',
      'SourceIdentity is already set on the calling session and cannot be changed.',
    );
  }

  return deps.store.transaction(async (tx) => {
    const role = await findRole(tx, input.roleArn);
    const targetAccount = parseArn(input.roleArn)?.account ?? '';
    const side = await deps.authorizer.callerSide(tx, caller, meta);
    const context: Record<string, ContextValue> = {
      ...side.context,
      ...(await deps.authorizer.resourceContext(tx, targetAccount)),
      'sts:RoleSessionName': input.roleSessionName,
    };
    if (input.externalId !== undefined) context['sts:ExternalId'] = input.externalId;
    if (input.sourceIdentity !== undefined) context['sts:SourceIdentity'] = input.sourceIdentity;
    const allTags = { ...inherited, ...requestTags };
    if (Object.keys(requestTags).length > 0) {
      for (const [k, v] of Object.entries(requestTags)) context[`aws:RequestTag/${k}`] = v;
      context['aws:TagKeys'] = Object.keys(requestTags);
    }
    if (input.transitiveTagKeys?.length) context['sts:TransitiveTagKeys'] = input.transitiveTagKeys;
    if (input.serialNumber !== undefined && input.tokenCode !== undefined) {
      context['aws:MultiFactorAuthPresent'] = 'true';
    }
    if (!role) {
      deny(deps, caller, input.roleArn, targetAccount, meta, { reason: 'role-not-found' });
      throw markRecorded(new AwsError('AccessDenied', denyText, { reason: 'role-not-found' }));
    }
    for (const t of role.tags) {
      // During trust evaluation a transitive session tag replaces a role tag with the same key.
      const over = Object.entries(inherited).find(([k]) => k.toLowerCase() === t.Key.toLowerCase());
      context[`aws:ResourceTag/${t.Key}`] = over ? over[1] : t.Value;
    }
    const trust = deps.authorizer.policy(
      role.trustPolicy,
      'trust',
      `trust policy of role${role.path}${role.name}`,
    );
    const rcp = await deps.authorizer.rcps(tx, role.accountId);
    const actions = ['sts:AssumeRole'];
    if (Object.keys(requestTags).length > 0) actions.push('sts:TagSession');
    if (sourceIdentity !== undefined) actions.push('sts:SetSourceIdentity');
    for (const action of actions) {
      const decision: Decision = evaluate(
        { action, resource: role.arn, principal: side.principal, context },
        { ...side.set, resource: trust, resourceAccount: role.accountId, ...(rcp ? { rcp } : {}) },
      );
      deps.onDecision?.(decision);
      if (decision.effect !== 'Allow') {
        const err = accessDenied(deps, new AwsError('AccessDenied', denyText), decision, meta.requestId);
        deny(deps, caller, role.arn, role.accountId, meta, {
          deniedAction: action,
          ...(err.detail ?? {}),
          trace: storedTrace(decision),
        });
        throw markRecorded(err);
      }
    }

    if (parent && duration > CHAIN_LIMIT) {
      throw new AwsError(
        'ValidationError',
        'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
      );
    }
    if (duration > role.maxSessionDuration) {
      throw awsError('durationOverMax');
    }
    const sp = await sessionPolicies(tx, deps, input, requestTags);
    const iat = Math.floor(meta.now / 1000);
    const transitive = [
      ...new Set([...(parent?.transitiveTagKeys ?? []), ...(input.transitiveTagKeys ?? [])]),
    ];
    const claims: Omit<SessionClaims, 'sid' | 'accessKeyId'> = {
      accountId: role.accountId,
      roleId: role.id,
      roleName: role.name,
      rolePath: role.path,
      sessionName: input.roleSessionName,
      iat,
      exp: iat + duration,
      chainDepth: parent ? parent.chainDepth + 1 : 1,
      tags: allTags,
      transitiveTagKeys: transitive,
      ...(sourceIdentity !== undefined ? { sourceIdentity } : {}),
      ...(sp.policies ? { policies: sp.policies, policyDigest: policyDigest(sp.policies) } : {}),
      ...(parent?.runId ? { runId: parent.runId } : {}),
      ...(parent?.tokenKid ? { tokenKid: parent.tokenKid } : {}),
      ...(parent?.runIssuer ? { runIssuer: parent.runIssuer } : {}),
      ...(parent?.runPhase ? { runPhase: parent.runPhase } : {}),
      ...(context['aws:MultiFactorAuthPresent'] === 'true' ? { mfa: true } : {}),
    };
    const credentials = await deps.issue(claims);
    const arn = assumedRoleArn(role.accountId, role.name, input.roleSessionName);
    // Committed with this transaction, before the credentials leave the server.
    await tx.appendAudit([
      {
        time: meta.now,
        requestId: meta.requestId,
        action: 'sts:AssumeRole',
        decision: 'allow',
        caller: caller.arn,
        roleArn: role.arn,
        accessKeyId: credentials.accessKeyId,
        accountId: role.accountId,
        ...(parent?.runId ? { runId: parent.runId } : {}),
        ...(parent ? { sessionId: parent.sid } : {}),
        // The web identity the chain started from.
        ...(parent?.webIdentity
          ? {
              sub: parent.webIdentity.sub,
              aud: parent.webIdentity.aud,
              ...(parent.webIdentity.jti ? { jti: parent.webIdentity.jti } : {}),
            }
          : {}),
        ...(meta.sourceIp ? { sourceIp: meta.sourceIp } : {}),
        ...(meta.userAgent ? { userAgent: meta.userAgent } : {}),
        detail: { chainDepth: claims.chainDepth, durationSeconds: duration, assumedRoleArn: arn },
      },
    ]);
    return {
      credentials,
      assumedRoleArn: arn,
      assumedRoleId: `${role.id}:${input.roleSessionName}`,
      ...(sp.packedPercent !== undefined ? { packedPolicySize: sp.packedPercent } : {}),
      ...(sourceIdentity !== undefined ? { sourceIdentity } : {}),
    };
  });
}

function deny(
  deps: StsDeps,
  caller: Caller,
  roleArn: string,
  accountId: string,
  meta: RequestMeta & { requestId: string },
  detail: Record<string, unknown>,
): void {
  // Not awaited: this runs inside the call's transaction, and the audit log commits on its own (a
  // failed write is logged there).
  deps
    .audit({
      time: meta.now,
      requestId: meta.requestId,
      action: 'sts:AssumeRole',
      decision: 'deny',
      reasonCode: 'AccessDenied',
      caller: caller.arn,
      roleArn,
      accountId,
      ...(caller.kind === 'role-session' && caller.session.runId ? { runId: caller.session.runId } : {}),
      ...(caller.kind === 'role-session' ? { sessionId: caller.session.sid } : {}),
      ...(meta.sourceIp ? { sourceIp: meta.sourceIp } : {}),
      ...(meta.userAgent ? { userAgent: meta.userAgent } : {}),
      detail,
    })
    .catch(() => undefined);
}
