// `gatepass run`'s options, written once: commander registers them for help and usage errors
// (commands/run.ts), and argv.ts parses the command lines every run uses from the same table.

export interface RunFlags {
  phase: 'plan' | 'apply';
  run?: string;
  server?: string;
  /** Old spelling of --server. */
  url?: string;
  agentTokenFile?: string;
  /** --token-file, as the other commands spell a token file. */
  tokenFile?: string;
  ca?: string;
  stsEndpoint?: string;
  iamEndpoint?: string;
  region?: string;
  refresh?: boolean;
  keepFiles?: boolean;
}

export interface RunOption {
  long: `--${string}`;
  /** Where commander keeps the value (its camel-cased long name). */
  key: keyof RunFlags;
  /** The value's name in the help (`--server <url>`); a flag without one takes no value. */
  value?: string;
  /** Undefined: accepted but left out of the help (old and other commands' spellings). */
  description?: string;
  choices?: readonly string[];
  mandatory?: true;
}

export const RUN_OPTIONS: readonly RunOption[] = [
  {
    long: '--phase',
    key: 'phase',
    value: 'phase',
    description: 'run phase',
    choices: ['plan', 'apply'],
    mandatory: true,
  },
  {
    long: '--run',
    key: 'run',
    value: 'run-id',
    description: 'join this run (e.g. the apply after its plan) instead of opening one',
  },
  {
    long: '--server',
    key: 'server',
    value: 'url',
    description: 'gatepass server URL (env GATEPASS_SERVER or GATEPASS_URL; default http://127.0.0.1:8787)',
  },
  { long: '--url', key: 'url', value: 'url' },
  {
    long: '--agent-token-file',
    key: 'agentTokenFile',
    value: 'file',
    description: 'file holding the agent token (default: env GATEPASS_AGENT_TOKEN)',
  },
  { long: '--token-file', key: 'tokenFile', value: 'file' },
  {
    long: '--ca',
    key: 'ca',
    value: 'file',
    description:
      'PEM CA bundle to trust for https servers and STS; the command trusts it too, added to its AWS_CA_BUNDLE and NODE_EXTRA_CA_CERTS (env GATEPASS_CA_FILE)',
  },
  {
    long: '--sts-endpoint',
    key: 'stsEndpoint',
    value: 'url',
    description: 'STS endpoint (default: workspace GATEPASS_AWS_STS_ENDPOINT, else AWS)',
  },
  {
    long: '--iam-endpoint',
    key: 'iamEndpoint',
    value: 'url',
    description: 'IAM endpoint (default: workspace GATEPASS_AWS_IAM_ENDPOINT, else the STS one)',
  },
  {
    long: '--region',
    key: 'region',
    value: 'region',
    description: 'AWS region (default: workspace AWS_REGION / AWS_DEFAULT_REGION, else us-east-1)',
  },
  {
    long: '--refresh',
    key: 'refresh',
    description:
      "with AWS's own STS, serve refreshing credentials from a loopback endpoint instead of token files (always so with any other STS)",
  },
  {
    long: '--keep-files',
    key: 'keepFiles',
    description: 'debugging only: leave the credential files behind',
  },
];
