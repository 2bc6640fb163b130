// The requests a load sends, by kind of call: one AssumeRoleWithWebIdentity form, a pool of signed
// GetCallerIdentity requests (signed ahead, so the generator measures the server rather than its own
// signer), or a bare GET. Shared by the Node generator (load-worker.ts) and the C one (pace-job.ts).
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { RawRequest } from '../lib/pace.js';

export interface LoadJob {
  url: string;
  kind: 'web-identity' | 'caller-identity' | 'hello';
  roleArn?: string;
  token?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  connections: number;
  warmupMs: number;
  durationMs: number;
  /** Paced load (requests a second) instead of a closed loop. */
  ratePerSecond?: number;
}

const FORM = 'application/x-www-form-urlencoded; charset=utf-8';
/** Signed GetCallerIdentity requests per pool (sent in turn). */
export const SIGNED_POOL = 256;

/** A GetCallerIdentity to `url` signed with `credentials` (at `signingDate`, now by default). */
export async function signedCallerIdentity(
  url: string,
  credentials: NonNullable<LoadJob['credentials']>,
  signingDate?: Date,
): Promise<RawRequest & { body: string }> {
  const target = new URL(url);
  const signer = new SignatureV4({ credentials, region: 'us-east-1', service: 'sts', sha256: Sha256 });
  const body = 'Action=GetCallerIdentity&Version=2011-06-15';
  const req = new HttpRequest({
    method: 'POST',
    protocol: 'http:',
    hostname: target.hostname,
    port: Number(target.port),
    path: '/',
    headers: { host: target.host, 'content-type': FORM },
    body,
  });
  const s = await signer.sign(req, signingDate ? { signingDate } : {});
  return { method: 'POST', headers: s.headers as Record<string, string>, body };
}

/** The requests for `job`, sent in turn (a signed pool stays valid for the 15 minutes SigV4 allows). */
export async function jobRequests(job: LoadJob): Promise<RawRequest[]> {
  if (job.kind === 'caller-identity') {
    const { url, credentials } = job;
    if (!credentials) throw new Error('credentials required');
    return Promise.all(Array.from({ length: SIGNED_POOL }, () => signedCallerIdentity(url, credentials)));
  }
  if (job.kind === 'web-identity') {
    const body = new URLSearchParams({
      Action: 'AssumeRoleWithWebIdentity',
      Version: '2011-06-15',
      RoleArn: job.roleArn ?? '',
      RoleSessionName: 'bench',
      WebIdentityToken: job.token ?? '',
    }).toString();
    return [{ method: 'POST', headers: { 'content-type': FORM }, body }];
  }
  return [{ method: 'GET', headers: {} }];
}
