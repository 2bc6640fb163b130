// The STS actions on the Query protocol: parameter shapes and constraints from the STS API model
// (spec-notes §4), results in AWS's element order.

import { rawHeader } from '../../core/headers.js';
import { type ActionContext, defineAction, type QueryAction } from '../../core/query/dispatch.js';
import { CONSTRAINTS } from '../../core/query/errors.js';
import { type FormReader, PATTERNS } from '../../core/query/parse-form.js';
import type { RequestMeta } from '../authz/authorizer.js';
import type { Caller } from '../caller/caller.js';
import { type AssumeRoleInput, assumeRole } from './assume-role.js';
import type { IssuedCredentials, StsDeps } from './deps.js';
import { decodeAuthorizationMessage, getAccessKeyInfo, getCallerIdentity } from './identity.js';
import { type RevokeRunInput, revokeRun } from './revoke-run.js';

const REVOKE_SCOPES = ['Run', 'Phase'] as const;

import { assumeRoleWithWebIdentity, type WebIdentityInput } from './web-identity.js';

const ARN = { min: 20, max: 2048, pattern: { re: PATTERNS.arnChars.re, text: PATTERNS.arnChars.text } };
const SESSION_NAME = { required: true, min: 2, max: 64, pattern: PATTERNS.roleSessionName } as const;
const POLICY = { min: 1, pattern: PATTERNS.policyText } as const;

/** STS's aws:RequestedRegion is the region the call was signed for (the global endpoint's otherwise). */
function meta(deps: StsDeps, ctx: ActionContext): RequestMeta & { requestId: string } {
  const req = ctx.request;
  const ua = rawHeader(req.rawHeaders, 'user-agent');
  const m: RequestMeta & { requestId: string } = {
    now: deps.clock.now(),
    requestId: ctx.requestId,
    sourceIp: req.remoteAddress,
    secure: req.secure ?? false,
    region: ctx.region ?? 'us-east-1',
  };
  if (ua) m.userAgent = ua.slice(0, 512);
  return m;
}

// Rules are built once: a rule object spread per request costs more than checking it.
const ROLE_ARN = { ...ARN, required: true } as const;
const SESSION_POLICY = { ...POLICY, max: 2048 } as const;
const POLICY_ARNS = { arn: ARN } as const;
const MAX_POLICY_ARNS = { maxItems: 10 } as const;
const DURATION = { min: 900, max: 43200 } as const;
const ACCESS_KEY_ID = { re: /^[\w]*$/, text: '[\\w]*' } as const;
const PROVIDER_ID = { min: 4, max: 2048 } as const;
const WEB_IDENTITY_TOKEN = { required: true, min: 4, max: 20000, sensitive: true } as const;

/** Policy and PolicyArns, set on `into` when present. */
function sessionPolicyParams<T extends Pick<WebIdentityInput, 'policy' | 'policyArns'>>(
  p: FormReader,
  into: T,
): T {
  const policy = p.str('Policy', SESSION_POLICY);
  const arns = p.structList('PolicyArns', POLICY_ARNS, MAX_POLICY_ARNS);
  if (policy !== undefined) into.policy = policy;
  if (arns) into.policyArns = arns.flatMap((a) => (a.arn ? [a.arn] : []));
  return into;
}

function credentialsXml(c: IssuedCredentials) {
  return {
    AccessKeyId: c.accessKeyId,
    SecretAccessKey: c.secretAccessKey,
    SessionToken: c.sessionToken,
    Expiration: new Date(c.expiration),
  };
}

export function stsActions(deps: StsDeps): QueryAction<Caller>[] {
  return [
    defineAction({
      service: 'sts',
      name: 'AssumeRoleWithWebIdentity',
      auth: 'none',
      input: (p): WebIdentityInput => {
        const duration = p.int('DurationSeconds', DURATION);
        p.str('ProviderId', PROVIDER_ID);
        const input: WebIdentityInput = {
          roleArn: p.str('RoleArn', ROLE_ARN),
          roleSessionName: p.str('RoleSessionName', SESSION_NAME),
          webIdentityToken: p.str('WebIdentityToken', WEB_IDENTITY_TOKEN),
        };
        if (duration !== undefined) input.durationSeconds = duration;
        return sessionPolicyParams(p, input);
      },
      handler: async (input, ctx) => {
        const r = await assumeRoleWithWebIdentity(deps, input, meta(deps, ctx));
        return {
          Credentials: credentialsXml(r.credentials),
          SubjectFromWebIdentityToken: r.subject,
          AssumedRoleUser: { AssumedRoleId: r.assumedRoleId, Arn: r.assumedRoleArn },
          PackedPolicySize: r.packedPolicySize,
          Provider: r.provider,
          Audience: r.audience,
          SourceIdentity: r.sourceIdentity,
        };
      },
    }),
    defineAction<Caller, AssumeRoleInput>({
      service: 'sts',
      name: 'AssumeRole',
      auth: 'sigv4',
      input: (p) => {
        const duration = p.int('DurationSeconds', DURATION);
        const tags = p.structList(
          'Tags',
          {
            Key: { required: true, min: 1, max: 128, pattern: PATTERNS.tagKey },
            Value: { required: true, min: 0, max: 256, pattern: PATTERNS.tagValue },
          },
          { maxItems: 50 },
        );
        const transitive = p.list('TransitiveTagKeys', {
          min: 1,
          max: 128,
          pattern: PATTERNS.tagKey,
          maxItems: 50,
        });
        const externalId = p.str('ExternalId', {
          min: 2,
          max: 1224,
          pattern: { re: /^[\w+=,.@:/-]*$/, text: '[\\w+=,.@:\\/-]*' },
        });
        const sourceIdentity = p.str('SourceIdentity', {
          min: 2,
          max: 64,
          pattern: PATTERNS.roleSessionName,
        });
        const serialNumber = p.str('SerialNumber', {
          min: 9,
          max: 256,
          pattern: { re: /^[\w+=/:,.@-]*$/, text: '[\\w+=/:,.@-]*' },
        });
        const tokenCode = p.str('TokenCode', { min: 6, max: 6, pattern: { re: /^\d*$/, text: '[\\d]*' } });
        if (sourceIdentity?.toLowerCase().startsWith('aws:')) {
          p.violation('sourceIdentity', sourceIdentity, CONSTRAINTS.notAwsPrefixed());
        }
        const input: AssumeRoleInput = {
          roleArn: p.str('RoleArn', ROLE_ARN),
          roleSessionName: p.str('RoleSessionName', SESSION_NAME),
        };
        if (duration !== undefined) input.durationSeconds = duration;
        if (tags) input.tags = tags.map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' }));
        if (transitive) input.transitiveTagKeys = transitive;
        if (externalId !== undefined) input.externalId = externalId;
        if (sourceIdentity !== undefined) input.sourceIdentity = sourceIdentity;
        if (serialNumber !== undefined) input.serialNumber = serialNumber;
        if (tokenCode !== undefined) input.tokenCode = tokenCode;
        return sessionPolicyParams(p, input);
      },
      handler: async (input, ctx) => {
        const r = await assumeRole(deps, ctx.caller, input, meta(deps, ctx));
        return {
          Credentials: credentialsXml(r.credentials),
          AssumedRoleUser: { AssumedRoleId: r.assumedRoleId, Arn: r.assumedRoleArn },
          PackedPolicySize: r.packedPolicySize,
          SourceIdentity: r.sourceIdentity,
        };
      },
    }),
    defineAction<Caller, undefined>({
      service: 'sts',
      name: 'GetCallerIdentity',
      auth: 'sigv4',
      input: () => undefined,
      handler: (_input, ctx) => {
        const id = getCallerIdentity(ctx.caller);
        return { UserId: id.userId, Account: id.account, Arn: id.arn };
      },
    }),
    defineAction<Caller, string>({
      service: 'sts',
      name: 'GetAccessKeyInfo',
      auth: 'sigv4',
      input: (p) => p.str('AccessKeyId', { required: true, min: 16, max: 128, pattern: ACCESS_KEY_ID }),
      handler: async (accessKeyId, ctx) => ({
        Account: await getAccessKeyInfo(deps, ctx.caller, accessKeyId, meta(deps, ctx)),
      }),
    }),
    defineAction<Caller, string>({
      service: 'sts',
      name: 'DecodeAuthorizationMessage',
      auth: 'sigv4',
      input: (p) => p.str('EncodedMessage', { required: true, min: 1, max: 10240 }),
      handler: async (encoded, ctx) => ({
        DecodedMessage: await decodeAuthorizationMessage(deps, ctx.caller, encoded, meta(deps, ctx)),
      }),
    }),
    defineAction({
      service: 'sts',
      name: 'RevokeRun',
      auth: 'none',
      input: (p): RevokeRunInput => {
        const scope = p.str('Scope', { max: 16 }) ?? 'Run';
        if (scope !== 'Run' && scope !== 'Phase')
          p.violation('scope', scope, CONSTRAINTS.enumValue(REVOKE_SCOPES));
        return {
          token: p.str('WebIdentityToken', { required: true, min: 4, max: 20000, sensitive: true }),
          scope: scope === 'Phase' ? 'Phase' : 'Run',
        };
      },
      handler: async (input, ctx) => {
        const r = await revokeRun(deps, input, meta(deps, ctx));
        return r.phase !== undefined ? { RunId: r.runId, Phase: r.phase } : { RunId: r.runId };
      },
    }),
  ];
}
