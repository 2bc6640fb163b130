// What clients.test.ts and the world it runs in a network namespace (netns-world.ts) share.

export interface WorldJob {
  /** Scratch directory (TMPDIR and HOME of every child). */
  work: string;
  /** Absolute paths of the clients. */
  awsV2: string;
  awsV1: string;
  debianPython: string;
  pyenvPython: string;
  goBinary: string;
  terraformDir: string;
  terraformRc: string;
  /** The user's own CA bundle, which does not hold the node's CA (AWS_CA_BUNDLE, NODE_EXTRA_CA_CERTS). */
  userCaBundle: string;
  /** A public address outside the namespace (an AWS STS address). */
  outsideAddress: string;
}

export interface ClientRun {
  exitCode: number | null;
  /** The last stdout line parsed as JSON, when it is JSON. */
  result?: Record<string, unknown>;
  /** The tail of stderr (the CLI's own lines and the client's), for failure messages. */
  stderr: string;
  runId: string;
  /** Hosts the trap saw during this run (TLS server names, or `tcp:<port>`). */
  trapped: string[];
  /** The node's audit during the run: refused calls (the client's probe write), and STS calls. */
  denials: Array<{ action: string; caller: string; runId: string; userAgent: string }>;
  stsCalls: Array<{ action: string; decision: string; userAgent: string }>;
  /** Whether any output of the run (the CLI's or the client's) holds a JWT. */
  tokenInOutput: boolean;
}

export interface WorldReport {
  route: { ipRoute: string; outsideConnect: string; unmappedLookup: string; mappedLookup: string };
  clients: Record<string, ClientRun>;
  /** The same clients handed a web identity profile the old way, outside gatepass run. */
  controls: Record<string, { exitCode: number | null; trapped: string[]; stderr: string }>;
  error?: string;
}

/** AWS endpoints an SDK could pick for STS/IAM in us-east-1; /etc/hosts sends them to the trap. */
export const TRAPPED_HOSTS = [
  'sts.amazonaws.com',
  'sts.us-east-1.amazonaws.com',
  'sts-fips.us-east-1.amazonaws.com',
  'sts.us-east-1.api.aws',
  'iam.amazonaws.com',
];
