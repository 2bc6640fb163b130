// Where a run's token may be sent by someone other than its agent (the issuer's reaper).

/**
 * Whether a token may travel to this endpoint: https, or plain http to this machine. A revoke-only
 * token opens nothing and a revoker token only the revoker role, but neither belongs on the wire in clear.
 */
export function privateTransport(endpoint: string): boolean {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return false;
  }
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname);
}
