// The server's own HTTP errors (outside any AWS protocol): code → status. Bodies carry the code and,
// where useful, the request id; never an exception message.
import type { ServerResponse } from 'node:http';
import { sendJson } from '../http/transport.js';

export const HTTP_ERRORS = {
  bad_request: 400,
  not_found: 404,
  request_timeout: 408,
  payload_too_large: 413,
  header_fields_too_large: 431,
  internal_error: 500,
  not_ready: 503,
  /** The store cannot write or be reached (disk full or read-only, database down): retry later. */
  store_unavailable: 503,
} as const;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

export function sendHttpError(
  res: ServerResponse,
  code: HttpErrorCode,
  requestId?: string,
  headers?: Record<string, string>,
): void {
  sendJson(res, HTTP_ERRORS[code], requestId ? { error: code, requestId } : { error: code }, headers);
}

/** A complete raw HTTP/1.1 error response, for sockets that never produced a request object. */
export function rawHttpError(code: HttpErrorCode): string {
  const status = HTTP_ERRORS[code];
  const body = JSON.stringify({ error: code });
  const reason = code
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ');
  return (
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}
