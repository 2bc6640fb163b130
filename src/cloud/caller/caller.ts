// Who made a signed request, as the SigV4 verifier establishes it. Shared by STS, IAM and authz.

/** What a session token seals: everything needed to authorize later calls without a database read. */
export interface SessionClaims {
  /** Session id (random, unique); revocation by session uses it. */
  sid: string;
  accessKeyId: string; // ASIA…
  accountId: string;
  roleId: string; // AROA…
  roleName: string;
  rolePath: string;
  sessionName: string;
  /** Issue and expiry instants, epoch seconds. */
  iat: number;
  exp: number;
  /** 1 for AssumeRoleWithWebIdentity or AssumeRole from long-term credentials; +1 per chained hop. */
  chainDepth: number;
  sourceIdentity?: string;
  /** Session tags (incl. inherited transitive tags); keys keep their case, compared case-insensitively. */
  tags: Record<string, string>;
  transitiveTagKeys: string[];
  /** SHA-256 (hex) of the session policies' text; the policies themselves travel sealed in `policies`. */
  policyDigest?: string;
  /** Inline session policy and managed session policy ARNs, when passed. */
  policies?: { inline?: string; arns?: string[] };
  /** Run id carried from the web identity token (terraform_run_id or source identity), through chains. */
  runId?: string;
  /** The `kid` that signed the web identity token the chain started from, carried through chains. */
  tokenKid?: string;
  /** The verified `iss` of the token the run id came from: a run is (issuer, run id). Chains inherit it. */
  runIssuer?: string;
  /** The token's `terraform_run_phase`: phase revocation ends the phase's sessions. Chains inherit it. */
  runPhase?: string;
  /** Web identity keys that survive into the session (`<provider>:sub`, `:aud`, `:amr`, `:id`). */
  webIdentity?: {
    provider: string;
    providerArn: string;
    sub: string;
    aud: string;
    amr?: string[];
    jti?: string;
  };
  /** MFA was used to obtain the session. */
  mfa?: boolean;
}

export type Caller =
  | {
      kind: 'user';
      accountId: string;
      userId: string; // AIDA…
      userName: string;
      arn: string;
      accessKeyId: string;
    }
  | {
      kind: 'role-session';
      accountId: string;
      /** arn:aws:sts::<acct>:assumed-role/<role>/<session> */
      arn: string;
      roleArn: string;
      accessKeyId: string;
      session: SessionClaims;
    }
  | { kind: 'root'; accountId: string; arn: string; accessKeyId: string };

/** `aws:userid`: AIDA… for users, AROA…:session for role sessions, the account id for root. */
export function callerUserId(c: Caller): string {
  switch (c.kind) {
    case 'user':
      return c.userId;
    case 'role-session':
      return `${c.session.roleId}:${c.session.sessionName}`;
    case 'root':
      return c.accountId;
  }
}
