// GET /.well-known/openid-configuration and /.well-known/jwks, also under the issuer URL's path
// (an issuer https://host/acme serves https://host/acme/.well-known/...). Short public caching,
// well inside the publish-ahead period, so relying parties see a new key before it signs.
import type { ServerResponse } from 'node:http';
import { sendJson } from '../../http/transport.js';
import {
  cacheSeconds,
  DISCOVERY_PATH,
  discoveryDocument,
  JWKS_PATH,
  jwksDocument,
  normalizeIssuer,
} from '../discovery.js';
import type { Keyring } from '../keyring.js';

export interface WellKnown {
  match(pathname: string, method: string): boolean;
  /** `path`: the request's path, as the front door matched it. */
  handle(res: ServerResponse, path: string): Promise<void>;
}

export function createWellKnown(issuer: string, keyring: Keyring, publishAheadMs: number): WellKnown {
  const base = new URL(normalizeIssuer(issuer)).pathname.replace(/\/+$/, '');
  const paths = new Map<string, 'discovery' | 'jwks'>([
    [DISCOVERY_PATH, 'discovery'],
    [JWKS_PATH, 'jwks'],
    [`${base}${DISCOVERY_PATH}`, 'discovery'],
    [`${base}${JWKS_PATH}`, 'jwks'],
  ]);
  const headers = {
    'cache-control': `public, max-age=${cacheSeconds(publishAheadMs)}`,
    'access-control-allow-origin': '*',
  };
  return {
    match: (p, m) => paths.has(p) && (m === 'GET' || m === 'HEAD'),
    async handle(res, path) {
      const which = paths.get(path);
      const keys = await keyring.publicJwks();
      if (which === 'jwks') {
        sendJson(res, 200, jwksDocument(keys), headers);
        return;
      }
      const algs = [keyring.alg, ...keys.map((k) => String(k.alg))];
      sendJson(res, 200, discoveryDocument(issuer, algs), headers);
    },
  };
}
