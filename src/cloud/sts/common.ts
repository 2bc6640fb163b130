// Pieces shared by the AssumeRole* actions: role lookup from an ARN, session policies and their
// packed size, tag rules, and the AccessDenied that carries an encoded authorization message.
import { createHash } from 'node:crypto';
import { parseArn } from '../../core/arn.js';
import { type Decision, explain, type Policy, PolicyValidationError } from '../../core/policy/index.js';
import { AwsError, awsError } from '../../core/query/errors.js';
import type { RoleRecord } from '../../store/records/iam.js';
import type { StoreOps } from '../../store/types.js';
import type { StsDeps } from './deps.js';

export interface SessionPolicyInput {
  policy?: string;
  policyArns?: string[];
}

/** `arn:aws:iam::<acct>:role/<path/>name` → the role, or undefined (callers answer AccessDenied). */
export async function findRole(tx: StoreOps, roleArn: string): Promise<RoleRecord | undefined> {
  const arn = parseArn(roleArn);
  if (arn?.service !== 'iam' || !arn.resource.startsWith('role/')) return undefined;
  return tx.getBy('role', 'arn', roleArn);
}

/**
 * Session policies: parsed (MalformedPolicyDocument on error) and measured. AWS packs policies and
 * tags into a compressed binary form whose exact size is undocumented; we count the minified policy
 * text plus tag keys and values against 2048 characters, which keeps the same order of magnitude and
 * fails the same inputs that exceed AWS's plaintext limit.
 */
export async function sessionPolicies(
  tx: StoreOps,
  deps: StsDeps,
  input: SessionPolicyInput,
  tags: Record<string, string>,
): Promise<{ parsed: Policy[]; packedPercent?: number; policies?: { inline?: string; arns?: string[] } }> {
  const parsed: Policy[] = [];
  let size = 0;
  if (input.policy !== undefined) {
    try {
      parsed.push(deps.authorizer.policy(input.policy, 'session', 'inline session policy'));
    } catch (e) {
      if (e instanceof PolicyValidationError) throw new AwsError('MalformedPolicyDocument', e.message);
      throw e;
    }
    size += input.policy.replace(/\s+/g, '').length;
  }
  for (const arn of input.policyArns ?? []) {
    const mp = await tx.getBy('managedPolicy', 'arn', arn);
    if (!mp) throw awsError('sessionPolicyNotAttachable', arn);
    size += arn.length;
  }
  for (const [k, v] of Object.entries(tags)) size += k.length + v.length;
  const passed = input.policy !== undefined || (input.policyArns?.length ?? 0) > 0;
  const tagged = Object.keys(tags).length > 0;
  if (!passed && !tagged) return { parsed };
  const packedPercent = Math.ceil((size * 100) / 2048);
  if (packedPercent > 100) {
    throw awsError('packedPolicyTooLarge', packedPercent);
  }
  const policies: { inline?: string; arns?: string[] } = {};
  if (input.policy !== undefined) policies.inline = input.policy;
  if (input.policyArns && input.policyArns.length > 0) policies.arns = input.policyArns;
  return passed ? { parsed, packedPercent, policies } : { parsed, packedPercent };
}

/**
 * The client sees AWS's fixed text plus an encoded message; only a principal allowed
 * sts:DecodeAuthorizationMessage can read the explanation inside.
 */
export function accessDenied(
  deps: StsDeps,
  /** The denial in AWS's words, from the catalog. */
  denial: AwsError,
  decision: Decision,
  requestId: string,
): AwsError {
  const encoded = deps.sealMessage?.({
    requestId,
    allowed: false,
    explicitDeny: decision.effect === 'ExplicitDeny',
    layer: decision.layer,
    reason: decision.reason,
    action: decision.request.action,
    resource: decision.request.resource,
    explanation: explain(decision),
    layers: decision.layers,
  });
  return denial.withEncodedMessage(encoded).withDetail({
    decision: { effect: decision.effect, layer: decision.layer, reason: decision.reason },
    explanation: explain(decision),
  });
}

/** SHA-256 (hex) of the session policies as passed: sealed with them, so audit and explain can name them. */
export function policyDigest(policies: { inline?: string; arns?: string[] }): string {
  return createHash('sha256')
    .update(JSON.stringify([policies.inline ?? null, policies.arns ?? []]))
    .digest('hex');
}

/** Tag keys compare case-insensitively; returns the first duplicate, if any. */
export function duplicateKey(keys: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const k of keys) {
    const l = k.toLowerCase();
    if (seen.has(l)) return k;
    seen.add(l);
  }
  return undefined;
}
