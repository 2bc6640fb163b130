// The contract between the HTTP server (src/server) and the modules that serve routes (issuer,
// cloud): plain node:http handlers plus a request context. Types and small helpers over the objects
// the server passes in; nothing here opens a socket. Its own layer, so `core` stays free of node:http.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from './log.js';

export interface RequestContext {
  requestId: string;
  log: Logger;
  /** Client address as seen on the socket. */
  remoteAddress: string;
  /** Whether the request arrived over TLS. */
  secure: boolean;
  startedAt: number;
  /**
   * The request target's path as the front door matched the mount with (the WHATWG URL parser's
   * pathname): mounts route on it instead of parsing `req.url` again.
   */
  path: string;
  /** Set by handlers to label metrics (defaults to the mount name). */
  route?: string;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, ctx: RequestContext) => Promise<void>;

/** A route module as the server mounts it: checked in order, the first that matches handles. */
export interface Mount {
  /** Also the default `route` metrics label. */
  name: string;
  match: (pathname: string, method: string) => boolean;
  handler: Handler;
}

export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
}

/** The client went away before its request body ended: nobody is left to answer. */
export class ClientClosedError extends Error {
  override readonly name = 'ClientClosedError';
  constructor() {
    super('request closed before its body ended');
  }
}

/**
 * Read the whole body, refusing more than `limit` bytes. Plain stream events, not `for await`: the
 * async iterator costs several microseconds per request on the STS hot path.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) return Promise.reject(new BodyTooLargeError(`body exceeds ${limit} bytes`));
  // Events already past would never come again: answer from the stream's state instead of waiting.
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  if (req.destroyed) return Promise.reject(new ClientClosedError());
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        done();
        // Stop reading; the caller answers 413 and Node discards what is left of the body.
        req.pause();
        reject(new BodyTooLargeError(`body exceeds ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      done();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    };
    // Node reports a connection closed mid-body as an 'aborted' error, then 'close'.
    const onError = (err: Error): void => {
      done();
      reject((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? new ClientClosedError() : err);
    };
    const onClose = (): void => {
      done();
      reject(new ClientClosedError());
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers?: Record<string, string>,
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
