// GET a JSON document from an identity provider the way AWS trusts one: the TLS certificate must
// chain to a trusted CA, or else one certificate of the presented chain must have a SHA-1
// thumbprint that is registered on the provider. The host name is checked either way.
import { createHash } from 'node:crypto';
import { request } from 'node:https';
import {
  checkServerIdentity,
  type DetailedPeerCertificate,
  rootCertificates,
  type TLSSocket,
} from 'node:tls';

export interface Trust {
  /** Hex SHA-1 thumbprints (40 characters) registered on the provider. */
  thumbprints: readonly string[];
  /** Extra trusted CA certificates (PEM), beyond Node's bundled roots. */
  ca?: readonly string[];
}

export interface HttpsGetResult {
  status: number;
  body: string;
}

/** Fetches a URL under a trust rule; rejects with OidcFetchError on any transport or trust failure. */
export type HttpsGet = (
  url: string,
  trust: Trust,
  options: { timeoutMs: number; maxBytes: number },
) => Promise<HttpsGetResult>;

export class OidcFetchError extends Error {
  override readonly name = 'OidcFetchError';
}

function chainThumbprints(cert: DetailedPeerCertificate): string[] {
  const out: string[] = [];
  let current: DetailedPeerCertificate | undefined = cert;
  const seen = new Set<string>();
  while (current?.raw && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256);
    out.push(createHash('sha1').update(current.raw).digest('hex'));
    current = current.issuerCertificate;
  }
  return out;
}

export const httpsGet: HttpsGet = (url, trust, options) =>
  new Promise((resolve, reject) => {
    const target = new URL(url);
    if (target.protocol !== 'https:') {
      reject(new OidcFetchError('identity provider endpoints must use https'));
      return;
    }
    const req = request(
      target,
      {
        method: 'GET',
        headers: { accept: 'application/json' },
        ca: trust.ca?.length ? [...rootCertificates, ...trust.ca] : undefined,
        // Verification is done below, so a CA failure can still fall back to the thumbprints.
        rejectUnauthorized: false,
        timeout: options.timeoutMs,
        agent: false,
      },
      (res) => {
        const socket = res.socket as TLSSocket;
        const peer = socket.getPeerCertificate(true);
        const hostError = peer?.raw
          ? checkServerIdentity(target.hostname, peer)
          : new Error('no certificate');
        const registered = new Set(trust.thumbprints.map((t) => t.toLowerCase()));
        const pinned = peer?.raw ? chainThumbprints(peer).some((t) => registered.has(t)) : false;
        if (hostError || !(socket.authorized || pinned)) {
          res.destroy();
          reject(
            new OidcFetchError(hostError ? 'certificate does not match the host' : 'untrusted certificate'),
          );
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxBytes) {
            res.destroy();
            reject(new OidcFetchError('response too large'));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', (err) => reject(new OidcFetchError(err.message)));
      },
    );
    req.on('timeout', () => req.destroy(new OidcFetchError('timed out')));
    req.on('error', (err) => reject(err instanceof OidcFetchError ? err : new OidcFetchError(err.message)));
    req.end();
  });
