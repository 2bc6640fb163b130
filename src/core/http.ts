// The contract between the HTTP server (src/server) and the modules that serve routes (issuer,
// cloud): plain node:http handlers plus a request context. Types and small helpers over the objects
// the server passes in; nothing here opens a socket.
import type { IncomingMessage, ServerResponse } from 'node:http';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Structured logger. Fields must never carry tokens, secrets or request bodies. */
export interface Logger {
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export const silentLogger: Logger = {
  log() {},
  child() {
    return silentLogger;
  },
};

export interface RequestContext {
  requestId: string;
  log: Logger;
  /** Client address as seen on the socket. */
  remoteAddress: string;
  /** Whether the request arrived over TLS. */
  secure: boolean;
  startedAt: number;
  /** Set by handlers to label metrics (defaults to the mount name). */
  route?: string;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, ctx: RequestContext) => Promise<void>;

export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
}

/** Read the whole body, refusing more than `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) throw new BodyTooLargeError(`body exceeds ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) throw new BodyTooLargeError(`body exceeds ${limit} bytes`);
    chunks.push(buf);
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
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
