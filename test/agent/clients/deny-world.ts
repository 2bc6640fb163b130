// What deny-list-clients.test.ts and the world it runs in a network namespace (netns-deny-list.ts)
// share. No secret crosses: captured keys stay in files of the world; the report holds what each
// call answered and access key ids (which name a credential, as the audit does).

export interface DenyWorldJob {
  /** Scratch directory (TMPDIR and HOME of every child); the captured keys files live here. */
  work: string;
  /** Debian's Python with its boto3. */
  debianPython: string;
  terraformDir: string;
  terraformRc: string;
}

/** What one captured credential answered: IAM ListRoles, the call the SCPs deny. */
export interface Probe {
  accessKeyId: string;
  /** Whether the node's audit shows the key issued (AssumeRoleWithWebIdentity or AssumeRole) to this run. */
  issuedToRun: boolean;
  /** 'ok' or the error code. */
  next: string;
}

export interface DenyClientRun {
  exitCode: number;
  runId: string;
  /** The tail of the CLI's and the child's stderr, for failure messages. */
  stderr: string;
  /** What the child read: its identity and how many roles ListRoles returned, in the hub and the member account. */
  result?: { default: string; member: string; defaultRoles: number; memberRoles: number };
  /** The CLI's line saying how the phase was revoked. */
  revokedLine: string;
  /** The method of the agent's report as the issuer audited it (gatepass:ReportRevocation). */
  reported: string[];
  /** Every session the node issued to the run (`<action> <role name>`): each process of the run shares them. */
  sessions?: string[];
  /** The captured hub and member credentials, probed after the phase ended. */
  hub?: Probe;
  member?: Probe;
  /** The concurrent run's hub and member credentials, probed after this phase ended. */
  concurrentAfter: string[];
  /** Whether the output holds a JWT or a captured secret access key. */
  secretInOutput: boolean;
}

export interface DenyWorldReport {
  ipRoute: string;
  /** The concurrent run (another workspace), open while the clients' runs come and go. */
  concurrent: { runId: string; during: string[]; after: string[]; reported: string[]; exitCode: number };
  clients: Record<string, DenyClientRun>;
  error?: string;
}
