// The shape of test/vectors/jwt/tokens.json.

export type JwtVerdict =
  | { ok: true; kid: string; aud: string }
  | { ok: false; code: string; message: string };

export interface JwtVector {
  /** What the token is, as the test name. */
  name: string;
  token: string;
  /** The hand-written verifier's answer (src/cloud/oidc/verify.ts). */
  expect: JwtVerdict;
  /** Where jose's jwtVerify answers otherwise on purpose, and why; absent: jose agrees. */
  jose?: { accepts: boolean; why: string };
}

export interface JwtVectorFile {
  issuer: string;
  clientIds: string[];
  /** The verification time, epoch milliseconds. */
  now: number;
  jwks: { keys: Record<string, unknown>[] };
  vectors: JwtVector[];
}
