// Discovery and JWKS of OIDC issuers, cached per issuer. An unknown `kid` triggers a refetch, at
// most once per `refetchIntervalMs`, so a rotated key is picked up at once but a flood of tokens
// with made-up key ids cannot turn gatepass into a request amplifier.
import type { Clock } from '../../core/deps.js';
import { type HttpsGet, OidcFetchError, type Trust } from './https-get.js';

/** A verification key as published: a JWK with its `kid`. */
export type PublishedKey = Readonly<Record<string, unknown>> & { kid: string; kty: string };

export interface JwksOptions {
  ttlMs: number;
  refetchIntervalMs: number;
  timeoutMs: number;
  /** AWS uses at most this many keys of a JWKS. */
  maxKeys: number;
  maxBytes: number;
}

export const DEFAULT_JWKS_OPTIONS: JwksOptions = {
  ttlMs: 10 * 60_000,
  refetchIntervalMs: 30_000,
  timeoutMs: 5_000,
  maxKeys: 100,
  maxBytes: 512 * 1024,
};

/** Thrown for transport, TLS and document problems: STS answers IDPCommunicationError. */
export class IdpUnavailableError extends Error {
  override readonly name = 'IdpUnavailableError';
}

interface Entry {
  keys: Map<string, PublishedKey>;
  fetchedAt: number;
  /** The most recent fetch attempt, successful or not (for the refetch rate limit). */
  attemptedAt: number;
  inflight?: Promise<void>;
}

export class JwksCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly get: HttpsGet,
    private readonly clock: Clock,
    private readonly options: JwksOptions = DEFAULT_JWKS_OPTIONS,
  ) {}

  /** The key with this kid, or undefined when the issuer does not publish it (after a refetch if allowed). */
  async key(issuer: string, kid: string, trust: Trust): Promise<PublishedKey | undefined> {
    const now = this.clock.now();
    let entry = this.entries.get(issuer);
    if (!entry || now - entry.fetchedAt >= this.options.ttlMs) {
      entry = await this.refresh(issuer, trust, entry);
    } else if (!entry.keys.has(kid) && now - entry.attemptedAt >= this.options.refetchIntervalMs) {
      entry = await this.refresh(issuer, trust, entry);
    }
    return entry.keys.get(kid);
  }

  /** Forget an issuer (its provider was deleted or changed). */
  forget(issuer: string): void {
    this.entries.delete(issuer);
  }

  /** Forget every issuer whose cached JWKS holds a key `matches` picks: the next token refetches. */
  forgetHolding(matches: (kid: string) => boolean): void {
    for (const [issuer, entry] of this.entries) {
      if (!entry.inflight && [...entry.keys.keys()].some(matches)) this.entries.delete(issuer);
    }
  }

  private async refresh(issuer: string, trust: Trust, previous: Entry | undefined): Promise<Entry> {
    if (previous?.inflight) {
      await previous.inflight.catch(() => undefined);
      return this.entries.get(issuer) ?? previous;
    }
    const entry: Entry = previous ?? { keys: new Map(), fetchedAt: -Infinity, attemptedAt: -Infinity };
    entry.attemptedAt = this.clock.now();
    entry.inflight = this.fetchKeys(issuer, trust).then((keys) => {
      entry.keys = keys;
      entry.fetchedAt = this.clock.now();
    });
    this.entries.set(issuer, entry);
    try {
      await entry.inflight;
    } catch (err) {
      // Keep serving the keys we had if a refetch fails; without any, the caller gets the failure.
      if (entry.keys.size === 0) {
        this.entries.delete(issuer);
        throw err;
      }
    } finally {
      delete entry.inflight;
    }
    return entry;
  }

  private async getJson(url: string, trust: Trust): Promise<Record<string, unknown>> {
    let result: Awaited<ReturnType<HttpsGet>>;
    try {
      result = await this.get(url, trust, {
        timeoutMs: this.options.timeoutMs,
        maxBytes: this.options.maxBytes,
      });
    } catch (err) {
      throw new IdpUnavailableError(err instanceof OidcFetchError ? err.message : 'fetch failed');
    }
    if (result.status !== 200)
      throw new IdpUnavailableError(`HTTP ${result.status} from ${new URL(url).host}`);
    let doc: unknown;
    try {
      doc = JSON.parse(result.body);
    } catch {
      throw new IdpUnavailableError('response is not JSON');
    }
    if (!doc || typeof doc !== 'object' || Array.isArray(doc))
      throw new IdpUnavailableError('response is not a JSON object');
    return doc as Record<string, unknown>;
  }

  private async fetchKeys(issuer: string, trust: Trust): Promise<Map<string, PublishedKey>> {
    const discovery = await this.getJson(`${issuer}/.well-known/openid-configuration`, trust);
    // The discovery document must speak for exactly this issuer (OIDC Discovery §4.3).
    if (discovery.issuer !== issuer) throw new IdpUnavailableError('discovery issuer does not match');
    const jwksUri = discovery.jwks_uri;
    if (typeof jwksUri !== 'string' || !jwksUri.startsWith('https://')) {
      throw new IdpUnavailableError('discovery has no https jwks_uri');
    }
    const jwks = await this.getJson(jwksUri, trust);
    if (!Array.isArray(jwks.keys)) throw new IdpUnavailableError('JWKS has no keys array');
    const keys = new Map<string, PublishedKey>();
    for (const key of jwks.keys.slice(0, this.options.maxKeys) as unknown[]) {
      if (!key || typeof key !== 'object') continue;
      const jwk = key as Record<string, unknown>;
      // A key without a kid can never be selected (AWS rejects such tokens too).
      if (typeof jwk.kid !== 'string' || typeof jwk.kty !== 'string') continue;
      if (jwk.use !== undefined && jwk.use !== 'sig') continue;
      if (!keys.has(jwk.kid)) keys.set(jwk.kid, jwk as PublishedKey);
    }
    return keys;
  }
}
