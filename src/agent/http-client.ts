// One HTTP(S) request with a deadline and a response size cap, over node:http/https (no fetch: the
// agent needs a custom CA per endpoint and exact control of the headers it signs).
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createSecureContext } from 'node:tls';

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface HttpOptions {
  timeoutMs?: number;
  maxResponseBytes?: number;
  /** Extra trusted CA certificates (PEM) for https endpoints. */
  ca?: readonly string[];
  /**
   * Keep-alive connections to reuse (see Connections), whose TLS context then stands for `ca`;
   * without, Node's global agents.
   */
  connections?: Connections;
}

/**
 * Keep-alive connections for one agent run: the requests to an origin reuse one connection (one
 * TLS handshake), and the CA is parsed into one TLS context for all of them. Idle connections do
 * not keep the process alive (Node unrefs them); destroy() closes them when the run is over.
 */
export class Connections {
  readonly http = new HttpAgent({ keepAlive: true });
  readonly https: HttpsAgent;

  constructor(ca?: readonly string[]) {
    this.https = new HttpsAgent({
      keepAlive: true,
      ...(ca && ca.length > 0 ? { secureContext: createSecureContext({ ca: [...ca] }) } : {}),
    });
  }

  destroy(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

/** The request failed before an HTTP response arrived (connection, TLS, timeout, size). */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    /** The error code (ECONNRESET, SELF_SIGNED_CERT_IN_CHAIN, …) or a short description. */
    readonly reason: string,
    readonly url: URL,
  ) {
    super(`${url.host}: ${reason}`);
  }
}

export function send(
  url: URL,
  init: { method: string; headers: Readonly<Record<string, string>>; body?: string | Uint8Array },
  options: HttpOptions = {},
): Promise<HttpResponse> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const max = options.maxResponseBytes ?? 1 << 20;
  const https = url.protocol === 'https:';
  const requestFn = https ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const pool = options.connections;
    const tls = pool
      ? { agent: https ? pool.https : pool.http }
      : https && options.ca && options.ca.length > 0
        ? { ca: [...options.ca] }
        : {};
    const req = requestFn(url, { method: init.method, headers: { ...init.headers }, ...tls }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > max) {
          req.destroy(new TransportError('response too large', url));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', (err) =>
        reject(err instanceof TransportError ? err : new TransportError(err.message, url)),
      );
    });
    req.setTimeout(timeoutMs, () => req.destroy(new TransportError('timed out', url)));
    req.on('error', (err) => {
      const code = (err as NodeJS.ErrnoException).code;
      reject(err instanceof TransportError ? err : new TransportError(code ?? err.message, url));
    });
    req.end(init.body);
  });
}
