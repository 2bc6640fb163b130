// A small STS client for the agent's own calls (the allowed-account guard, the refresh endpoint and
// run revocation): AWS Query protocol over node:http/https, SigV4 where AWS requires it.
import type { Clock } from '../core/deps.js';
import { type HttpOptions, send, TransportError } from './http-client.js';
import { type SigningCredentials, signRequest } from './sigv4-sign.js';
import { innerXml, xmlText } from './xml.js';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** Epoch ms. */
  expiration: number;
}

export interface AssumedRole {
  credentials: AwsCredentials;
  assumedRoleArn?: string;
}

export interface CallerIdentity {
  account: string;
  arn: string;
  userId: string;
}

/** 4xx codes that mean "not now": throttling, an IdP the STS could not reach (botocore retries it). */
const NOT_NOW = new Set([
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'IDPCommunicationError',
]);
/**
 * Connections that failed before the STS could answer. Timeouts are not among them: each already
 * spent its wait (30 s, or the kernel's own for ETIMEDOUT), and three would hold the run's end.
 */
const TRANSIENT_TRANSPORT = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'EAI_AGAIN']);

/**
 * Whether a call that failed may pass when made again, as AWS SDKs retry: the STS could not do it
 * just then (a 5xx, throttling, its identity provider unreachable) or the connection failed. Not a
 * refusal of the request itself.
 */
export function isTransientStsFailure(err: unknown): boolean {
  if (err instanceof StsError) return err.status >= 500 || NOT_NOW.has(err.code);
  return err instanceof TransportError && TRANSIENT_TRANSPORT.has(err.reason);
}

/**
 * The pauses before a call's second and third attempts. The STS commits a revocation with its
 * audit record or not at all, so a RevokeRun it could not commit (a 503 while its store fails over)
 * changed nothing and is worth asking again before a run's sessions are left to expire.
 */
const RETRY_PAUSES_MS = [250, 1000];

/** `call`'s result, asked again after each pause while it fails transiently. */
export async function retryingTransient<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const pause = RETRY_PAUSES_MS[attempt];
      if (pause === undefined || !isTransientStsFailure(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

/** An AWS error response (code and message as AWS sent them; they never carry the token). */
export class StsError extends Error {
  override readonly name = 'StsError';
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
  }
}

export interface StsClientOptions {
  /** Absent: AWS's regional STS endpoint. */
  endpoint?: string;
  region: string;
  clock: Clock;
  http?: HttpOptions;
  userAgent?: string;
}

const VERSION = '2011-06-15';

export const awsStsEndpoint = (region: string): string => `https://sts.${region}.amazonaws.com`;

export class StsClient {
  readonly endpoint: URL;

  constructor(private readonly options: StsClientOptions) {
    this.endpoint = new URL(options.endpoint ?? awsStsEndpoint(options.region));
  }

  /** Unsigned, as AWS defines it: the token is the credential. */
  async assumeRoleWithWebIdentity(p: {
    roleArn: string;
    roleSessionName: string;
    webIdentityToken: string;
    durationSeconds?: number;
  }): Promise<AssumedRole> {
    const params: Record<string, string> = {
      Action: 'AssumeRoleWithWebIdentity',
      RoleArn: p.roleArn,
      RoleSessionName: p.roleSessionName,
      WebIdentityToken: p.webIdentityToken,
    };
    if (p.durationSeconds !== undefined) params.DurationSeconds = String(p.durationSeconds);
    return assumed(await this.call(params), 'AssumeRoleWithWebIdentityResult');
  }

  async assumeRole(
    creds: SigningCredentials,
    p: { roleArn: string; roleSessionName: string; durationSeconds?: number; sourceIdentity?: string },
  ): Promise<AssumedRole> {
    const params: Record<string, string> = {
      Action: 'AssumeRole',
      RoleArn: p.roleArn,
      RoleSessionName: p.roleSessionName,
    };
    if (p.durationSeconds !== undefined) params.DurationSeconds = String(p.durationSeconds);
    if (p.sourceIdentity !== undefined) params.SourceIdentity = p.sourceIdentity;
    return assumed(await this.call(params, creds), 'AssumeRoleResult');
  }

  async getCallerIdentity(creds: SigningCredentials): Promise<CallerIdentity> {
    const xml = await this.call({ Action: 'GetCallerIdentity' }, creds);
    const scope = 'GetCallerIdentityResult';
    const account = xmlText(xml, 'Account', scope);
    const arn = xmlText(xml, 'Arn', scope);
    const userId = xmlText(xml, 'UserId', scope);
    if (account === undefined || arn === undefined || userId === undefined) throw malformed();
    return { account, arn, userId };
  }

  /** gatepass extension: end the token's run, or (scope Phase) only its phase, at the STS. */
  async revokeRun(webIdentityToken: string, scope: 'Run' | 'Phase' = 'Run'): Promise<{ runId: string }> {
    const xml = await this.call({
      Action: 'RevokeRun',
      WebIdentityToken: webIdentityToken,
      ...(scope === 'Phase' ? { Scope: 'Phase' } : {}),
    });
    return { runId: xmlText(xml, 'RunId') ?? '' };
  }

  private async call(params: Record<string, string>, creds?: SigningCredentials): Promise<string> {
    const body = new URLSearchParams({ ...params, Version: VERSION }).toString();
    let headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
    };
    if (this.options.userAgent !== undefined) headers['user-agent'] = this.options.userAgent;
    if (creds) {
      headers = signRequest({
        method: 'POST',
        url: this.endpoint,
        headers,
        body,
        credentials: creds,
        region: this.options.region,
        service: 'sts',
        now: this.options.clock.now(),
      });
    }
    const res = await send(this.endpoint, { method: 'POST', headers, body }, this.options.http);
    const xml = res.body.toString('utf8');
    if (res.status >= 200 && res.status < 300) return xml;
    const code = xmlText(xml, 'Code', 'Error');
    const message = xmlText(xml, 'Message', 'Error') ?? '';
    throw new StsError(
      code ?? `HTTP${res.status}`,
      res.status,
      message.slice(0, 500),
      xmlText(xml, 'RequestId'),
    );
  }
}

const malformed = (): StsError => new StsError('MalformedResponse', 0, 'The STS response could not be read.');

function assumed(xml: string, scope: string): AssumedRole {
  if (innerXml(xml, scope) === undefined) throw malformed();
  const accessKeyId = xmlText(xml, 'AccessKeyId', 'Credentials');
  const secretAccessKey = xmlText(xml, 'SecretAccessKey', 'Credentials');
  const sessionToken = xmlText(xml, 'SessionToken', 'Credentials');
  const expirationText = xmlText(xml, 'Expiration', 'Credentials');
  const expiration = expirationText === undefined ? Number.NaN : Date.parse(expirationText);
  if (!accessKeyId || !secretAccessKey || !sessionToken || Number.isNaN(expiration)) throw malformed();
  const out: AssumedRole = { credentials: { accessKeyId, secretAccessKey, sessionToken, expiration } };
  const arn = xmlText(xml, 'Arn', 'AssumedRoleUser');
  if (arn !== undefined) out.assumedRoleArn = arn;
  return out;
}
