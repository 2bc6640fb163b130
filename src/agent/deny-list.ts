// Revocation where the STS has no RevokeRun (AWS): add the run (or the phase's roles of the run) to
// the gatepass-managed SCP deny list, written with the revoker role's credentials, which can update
// those policies and nothing else (docs/real-aws.md). AWS offers no conditional write on a policy,
// so the writer emulates one: read, merge, re-read just before the write and start over if the
// policy changed, write, then read back; an entry lost to a racing writer is written again.

import {
  DENY_LIST_POLICIES_VAR,
  DenyListError,
  type DenyListOptions,
  type DenyRequest,
  denies,
  planAdd,
} from '../core/denylist.js';
import type { Clock } from '../core/deps.js';
import { privateTransport } from '../core/private-transport.js';
import { isAwsEndpoint } from './config.js';
import type { HttpOptions } from './http-client.js';
import { TransportError } from './http-client.js';
import { AWS_ORGANIZATIONS_ENDPOINT, OrganizationsClient, OrgError } from './org-client.js';
import { StsClient, StsError } from './sts-client.js';

/** Where the deny list lives and who writes it: workspace variables. */
export const DENY_LIST_VARS = {
  policies: DENY_LIST_POLICIES_VAR,
  revokerRole: 'GATEPASS_AWS_REVOKER_ROLE_ARN',
  audience: 'GATEPASS_AWS_REVOKER_AUDIENCE',
  endpoint: 'GATEPASS_AWS_ORGANIZATIONS_ENDPOINT',
} as const;

/** The audience of revoker tokens unless the workspace names another: no run configuration uses it. */
export const REVOKER_AUDIENCE = 'gatepass-revoker';
/**
 * How long a run's sessions may outlive its last token: AWS's longest role session (12 h) minted
 * just before the token expired, plus a chained session (at most 1 h) taken at the end of that one.
 */
export const MAX_SESSION_MS = 13 * 3_600_000;
/** AWS allows five SCPs per target; FullAWSAccess (or an allow list) takes one. */
const MAX_POLICIES = 4;
const POLICY_ID = /^p-[0-9a-z]{8,128}$/;
const ROLE_ARN = /^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

export interface DenyListConfig {
  policyIds: string[];
  revokerRoleArn: string;
  audience: string;
  endpoint: string;
}

/**
 * The deny-list configuration from the workspace's variables: undefined when none is set, the
 * problems when it is set but unusable.
 */
export function denyListConfig(
  variables: ReadonlyMap<string, string | null>,
  stsEndpoint: string | undefined,
): DenyListConfig | { problems: string[] } | undefined {
  const get = (k: string) => variables.get(k) ?? undefined;
  const ids = get(DENY_LIST_VARS.policies);
  const role = get(DENY_LIST_VARS.revokerRole);
  if (ids === undefined && role === undefined) return undefined;
  const problems: string[] = [];
  const policyIds = (ids ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (policyIds.length === 0) problems.push(`${DENY_LIST_VARS.policies} names no policy`);
  if (policyIds.length > MAX_POLICIES)
    problems.push(
      `${DENY_LIST_VARS.policies} names ${policyIds.length} policies; AWS attaches at most ${MAX_POLICIES} beside FullAWSAccess`,
    );
  for (const id of policyIds)
    if (!POLICY_ID.test(id)) problems.push(`${JSON.stringify(id)} is not a policy id (p-…)`);
  if (role === undefined || !ROLE_ARN.test(role))
    problems.push(`${DENY_LIST_VARS.revokerRole} must be a role ARN`);
  const endpoint =
    get(DENY_LIST_VARS.endpoint) ??
    (stsEndpoint !== undefined && !isAwsEndpoint(stsEndpoint) ? stsEndpoint : AWS_ORGANIZATIONS_ENDPOINT);
  if (problems.length > 0) return { problems };
  return {
    policyIds,
    revokerRoleArn: role ?? '',
    audience: get(DENY_LIST_VARS.audience) ?? REVOKER_AUDIENCE,
    endpoint,
  };
}

/** The policies' contents, read and written by id (OrganizationsClient, or a test's interleaving). */
export interface PolicyAccess {
  read(policyId: string): Promise<string>;
  write(policyId: string, content: string): Promise<void>;
}

export interface DenyOutcome {
  /** The policy that holds the entry. */
  policyId: string;
  attempts: number;
  /** Times the policy changed between the read and the write, so the merge started over. */
  conflicts: number;
  /** Times the entry was missing after the write (a racing writer overwrote it) and was written again. */
  lostUpdates: number;
}

/** Add the entry to the deny list; throws DenyListError ('Full', 'NotDenyList', 'Conflict'). */
export async function addToDenyList(
  access: PolicyAccess,
  policyIds: readonly string[],
  request: DenyRequest,
  o: DenyListOptions & { clock: Clock; attempts?: number },
): Promise<DenyOutcome> {
  const max = o.attempts ?? 8;
  let conflicts = 0;
  let lostUpdates = 0;
  const readAll = () => Promise.all(policyIds.map((id) => access.read(id)));
  for (let attempt = 1; attempt <= max; attempt++) {
    const contents = await readAll();
    const plan = planAdd(contents, request, o.clock.now(), o);
    const again = await Promise.all(plan.map((w) => access.read(policyIds[w.index] ?? '')));
    if (again.some((c, k) => c !== contents[plan[k]?.index ?? -1])) {
      conflicts++;
      continue;
    }
    for (const w of plan) await access.write(policyIds[w.index] ?? '', w.content);
    const after = await readAll();
    const holder = after.findIndex((c) => denies(c, request));
    if (holder >= 0) return { policyId: policyIds[holder] ?? '', attempts: attempt, conflicts, lostUpdates };
    lostUpdates++;
  }
  throw new DenyListError(
    'Conflict',
    `the deny list kept changing under this writer: ${max} attempts (${conflicts} changed before the write, ${lostUpdates} lost after it)`,
  );
}

/** A token's claims, read without verifying (the agent minted it; only the claims are wanted). */
export function tokenClaims(token: string): Record<string, unknown> {
  try {
    const payload = token.split('.')[1] ?? '';
    const v = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export interface DenyRevokeInput {
  config: DenyListConfig;
  sts: StsClient;
  /** A token for the revoker role (audience config.audience), minted once the command has exited. */
  revokerToken: string;
  request: DenyRequest;
  clock: Clock;
  http?: HttpOptions;
}

/** Assume the revoker role and add the entry; returns where it went. */
export async function denyRevoke(input: DenyRevokeInput): Promise<DenyOutcome> {
  const { credentials } = await input.sts.assumeRoleWithWebIdentity({
    roleArn: input.config.revokerRoleArn,
    webIdentityToken: input.revokerToken,
    roleSessionName: `gatepass-revoke-${input.request.runId}`.slice(0, 64),
  });
  const org = new OrganizationsClient({
    endpoint: input.config.endpoint,
    credentials,
    clock: input.clock,
    ...(input.http ? { http: input.http } : {}),
  });
  return addToDenyList(
    { read: (id) => org.describePolicy(id), write: (id, c) => org.updatePolicy(id, c) },
    input.config.policyIds,
    input.request,
    { clock: input.clock, exempt: [input.config.revokerRoleArn] },
  );
}

/** How a phase's credentials were revoked, as the agent reports it and the issuer records it. */
export interface RevocationReport {
  method: 'RevokeRun' | 'DenyList' | 'none';
  /** What was revoked and where, or why nothing could be (no secret, no token). */
  detail: string;
}

export interface DenyFallbackInput {
  runId: string;
  variables: ReadonlyMap<string, string | null>;
  stsEndpoint: string | undefined;
  /** The phase's tokens (their exp bounds the entry; their source identity claim must be the run id). */
  tokens: readonly string[];
  /** When the entry may go (epoch ms); default: the last token's exp + MAX_SESSION_MS. */
  until?: number;
  /** A phase's roles when only the phase ends; undefined when the whole run does. */
  roles: readonly string[] | undefined;
  /** Why RevokeRun was not used (AWS's STS, or the STS answered InvalidAction). */
  because: string;
  sts: StsClient;
  mint(audience: string): Promise<string>;
  clock: Clock;
  http?: HttpOptions;
}

const SOURCE_IDENTITY_CLAIM = 'https://aws.amazon.com/source_identity';

function failure(err: unknown): string {
  if (err instanceof DenyListError) return err.message;
  if (err instanceof StsError || err instanceof OrgError) return `${err.code}: ${err.message}`;
  if (err instanceof TransportError) return err.message;
  return 'unexpected error';
}

/** Revoke through the deny list when RevokeRun is not there; never throws, reports what happened. */
export async function revokeWithDenyList(i: DenyFallbackInput): Promise<RevocationReport> {
  const config = denyListConfig(i.variables, i.stsEndpoint);
  if (config === undefined)
    return {
      method: 'none',
      detail: `${i.because}, and the workspace names no deny list (${DENY_LIST_VARS.policies}, ${DENY_LIST_VARS.revokerRole}): the sessions expire on their own`,
    };
  if ('problems' in config)
    return { method: 'none', detail: `the deny list is misconfigured: ${config.problems.join('; ')}` };
  const claims = i.tokens.map(tokenClaims);
  if (claims.some((c) => c[SOURCE_IDENTITY_CLAIM] !== i.runId))
    return {
      method: 'none',
      detail: `the run's tokens do not carry the run id as source identity (the workspace's sourceIdentity option), so a deny on aws:SourceIdentity cannot reach its sessions`,
    };
  const exp = Math.max(0, ...claims.map((c) => (typeof c.exp === 'number' ? c.exp * 1000 : 0)));
  const request: DenyRequest = {
    runId: i.runId,
    ...(i.roles ? { roles: i.roles } : {}),
    until: i.until ?? Math.max(exp, i.clock.now()) + MAX_SESSION_MS,
  };
  try {
    const revokerToken = await i.mint(config.audience);
    // Without phase tokens to look at (a lapsed lease), the revoker's token of the run tells.
    if (tokenClaims(revokerToken)[SOURCE_IDENTITY_CLAIM] !== i.runId)
      return {
        method: 'none',
        detail: `the run's tokens do not carry the run id as source identity (the workspace's sourceIdentity option), so a deny on aws:SourceIdentity cannot reach its sessions`,
      };
    const out = await denyRevoke({
      config,
      sts: i.sts,
      revokerToken,
      request,
      clock: i.clock,
      ...(i.http ? { http: i.http } : {}),
    });
    const what = i.roles ? `its sessions on ${i.roles.length} role(s)` : 'every session of the run';
    return {
      method: 'DenyList',
      detail: `${what} denied by SCP ${out.policyId} until ${new Date(request.until).toISOString()} (attempts ${out.attempts})`,
    };
  } catch (err) {
    return { method: 'none', detail: `the deny list could not be written: ${failure(err)}` };
  }
}

export interface LapsedRunInput {
  runId: string;
  variables: ReadonlyMap<string, string | null>;
  /** The phase's deadline (epoch ms): the exp of its tokens. */
  deadline: number;
  mint(audience: string): Promise<string>;
  clock: Clock;
  /** CAs the STS and Organizations endpoints may be signed by. */
  ca: readonly string[];
}

/**
 * The lease reaper's revocation of a run whose agent died, where the STS has no RevokeRun: the whole
 * run on the workspace's deny list, until every session its tokens can still mint has expired.
 * Undefined when the workspace names no deny list.
 */
export async function denyLapsedRun(i: LapsedRunInput): Promise<RevocationReport | undefined> {
  const stsEndpoint = i.variables.get('GATEPASS_AWS_STS_ENDPOINT') ?? undefined;
  if (denyListConfig(i.variables, stsEndpoint) === undefined) return undefined;
  // The revoker's token travels only where nobody else reads it.
  if (stsEndpoint !== undefined && !privateTransport(stsEndpoint))
    return {
      method: 'none',
      detail: 'the STS endpoint is neither https nor loopback: no revoker token sent',
    };
  const http = { ca: [...i.ca] };
  return revokeWithDenyList({
    runId: i.runId,
    variables: i.variables,
    stsEndpoint,
    tokens: [],
    until: i.deadline + MAX_SESSION_MS,
    roles: undefined,
    because: "the run's agent stopped renewing its lease",
    sts: new StsClient({
      region: 'us-east-1',
      clock: i.clock,
      userAgent: 'gatepass-issuer',
      http,
      ...(stsEndpoint !== undefined ? { endpoint: stsEndpoint } : {}),
    }),
    mint: i.mint,
    clock: i.clock,
    http,
  });
}
