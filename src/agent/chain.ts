// Walking one configuration the way an SDK does with the delivered profile: web identity into the
// phase's role, then AssumeRole through each chain target. Used by the allowed-account guard and
// the refresh endpoint.
import { accountOfRoleArn } from './config.js';
import { AgentError } from './errors.js';
import type { AwsCredentials, StsClient } from './sts-client.js';

export interface WalkInput {
  roleArn: string;
  chain: readonly string[];
  token: string;
  sessionName: string;
}

export interface Walked {
  credentials: AwsCredentials;
  /** The assumed-role ARN of the last hop. */
  arn: string;
}

export async function walkChain(sts: StsClient, input: WalkInput): Promise<Walked> {
  const first = await sts.assumeRoleWithWebIdentity({
    roleArn: input.roleArn,
    roleSessionName: input.sessionName,
    webIdentityToken: input.token,
  });
  let current = first.credentials;
  let arn = first.assumedRoleArn ?? input.roleArn;
  for (const hop of input.chain) {
    const next = await sts.assumeRole(current, { roleArn: hop, roleSessionName: input.sessionName });
    current = next.credentials;
    arn = next.assumedRoleArn ?? hop;
  }
  return { credentials: current, arn };
}

/** Fail fast when credentials resolve to an account outside `allowed` (empty: no guard). */
export async function checkAllowedAccount(
  sts: StsClient,
  label: string,
  walked: Walked,
  allowed: readonly string[],
): Promise<string> {
  if (allowed.length === 0) return accountOfRoleArn(walked.arn);
  const identity = await sts.getCallerIdentity(walked.credentials);
  if (!allowed.includes(identity.account)) {
    throw new AgentError('account_not_allowed', [
      `${label}: resolves to account ${identity.account} (${identity.arn}); allowed: ${allowed.join(', ')}`,
    ]);
  }
  return identity.account;
}
