// Served credentials (any STS but AWS's, or --refresh): a loopback container-credentials endpoint
// (the ECS/EKS contract every AWS SDK reads through AWS_CONTAINER_CREDENTIALS_FULL_URI +
// AWS_CONTAINER_AUTHORIZATION_TOKEN, and what each file's credential_process asks). Each
// configuration is served at /<tag> (/default for the default one). Credentials are refreshed before they expire
// by minting a fresh token and walking the chain again, so tools that cannot re-assume themselves
// and chained sessions (capped at one hour) never see an expired credential during a long phase.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock, Random } from '../core/deps.js';
import { isoSeconds } from '../core/time.js';
import type { AwsCredentials } from './sts-client.js';

/**
 * Refresh this long before expiry, or at half-life for sessions shorter than twice this. botocore
 * refreshes container and process credentials from 15 minutes before expiry, so anything served
 * with less left would be fetched again on every call.
 */
export const REFRESH_AHEAD_MS = 15 * 60_000;

export class RefreshingCredentials {
  private current: { creds: AwsCredentials; obtainedAt: number } | undefined;
  private inflight: Promise<AwsCredentials> | undefined;
  /** How many times the source was called. */
  fetches = 0;

  constructor(
    private readonly source: () => Promise<AwsCredentials>,
    private readonly clock: Clock,
    private readonly aheadMs = REFRESH_AHEAD_MS,
  ) {}

  /** Start from credentials obtained elsewhere (e.g. by the allowed-account guard). */
  seed(creds: AwsCredentials): void {
    this.current = { creds, obtainedAt: this.clock.now() };
  }

  needsRefresh(now = this.clock.now()): boolean {
    if (!this.current) return true;
    const { creds, obtainedAt } = this.current;
    const margin = Math.min(this.aheadMs, (creds.expiration - obtainedAt) / 2);
    return creds.expiration - now <= margin;
  }

  async get(): Promise<AwsCredentials> {
    if (this.current && !this.needsRefresh()) return this.current.creds;
    // One refresh at a time, however many requests arrive meanwhile.
    this.inflight ??= (async () => {
      try {
        this.fetches += 1;
        const creds = await this.source();
        this.current = { creds, obtainedAt: this.clock.now() };
        return creds;
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }
}

export interface CredentialServer {
  /** The full URI of one configuration ('' = default). */
  url(tag: string): string;
  authorizationToken: string;
  close(): Promise<void>;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export const pathName = (tag: string): string => (tag === '' ? 'default' : tag);

export async function startCredentialServer(options: {
  sources: ReadonlyMap<string, RefreshingCredentials>;
  random: Random;
  onError?: (tag: string, err: unknown) => void;
}): Promise<CredentialServer> {
  const authorizationToken = Buffer.from(options.random.bytes(32)).toString('base64url');
  const expected = digest(authorizationToken);
  const byPath = new Map<string, RefreshingCredentials>();
  const tagOf = new Map<string, string>();
  for (const [tag, source] of options.sources) {
    byPath.set(`/${pathName(tag)}`, source);
    tagOf.set(`/${pathName(tag)}`, tag);
  }

  const server: Server = createServer(async (req, res) => {
    const reply = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(text);
    };
    const presented = req.headers.authorization;
    // Hashes have equal length, so the comparison is constant-time whatever was presented.
    if (typeof presented !== 'string' || !timingSafeEqual(digest(presented), expected)) {
      reply(401, { Code: 'Unauthorized', Message: 'A valid authorization token is required.' });
      return;
    }
    if (req.method !== 'GET') {
      reply(405, { Code: 'MethodNotAllowed', Message: 'Only GET is supported.' });
      return;
    }
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const source = byPath.get(path);
    if (!source) {
      reply(404, { Code: 'NotFound', Message: 'No such configuration.' });
      return;
    }
    try {
      const c = await source.get();
      reply(200, {
        Code: 'Success',
        Type: 'AWS-HMAC',
        AccessKeyId: c.accessKeyId,
        SecretAccessKey: c.secretAccessKey,
        Token: c.sessionToken,
        Expiration: isoSeconds(c.expiration),
      });
    } catch (err) {
      options.onError?.(tagOf.get(path) ?? '', err);
      reply(502, { Code: 'RefreshFailed', Message: 'The credentials could not be refreshed.' });
    }
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    authorizationToken,
    url: (tag) => `http://127.0.0.1:${port}/${pathName(tag)}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
