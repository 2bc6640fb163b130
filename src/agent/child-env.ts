// The environment of the run's command: the agent's own environment plus the workspace's env
// variables (as HCP Terraform runs get them), minus every inherited way to reach other AWS
// credentials, plus the standard variables that point SDKs at this run's files and endpoints.
import type { RunConfig } from './config.js';

export type Env = Record<string, string>;

/** Inherited variables that would let the run pick up credentials other than the run's. */
const REMOVED = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_SECURITY_TOKEN',
  'AWS_CREDENTIAL_EXPIRATION',
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_CONFIG_FILE',
  'AWS_ROLE_ARN',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ROLE_SESSION_NAME',
  'AWS_IAM_ROLE_SESSION_NAME',
  'AWS_ENDPOINT_URL_STS',
  'AWS_ENDPOINT_URL_IAM',
  'TF_VAR_tfc_aws_dynamic_credentials',
  'GATEPASS_AGENT_TOKEN',
];
const REMOVED_PREFIXES = ['AWS_CONTAINER_', 'TFC_WORKLOAD_IDENTITY_TOKEN'];

export interface DeliveredConfig {
  tag: string;
  /** Absent when the agent serves the credentials. */
  tokenFile?: string;
  configFile: string;
}

export interface ChildEnvInput {
  parent: Readonly<Record<string, string | undefined>>;
  /** Readable workspace env variables (sensitive ones are not available to the agent). */
  workspace: ReadonlyMap<string, string>;
  config: RunConfig;
  /** The default configuration's file, always present (region only when there is no default). */
  defaultConfigFile: string;
  /** An empty credentials file, so ~/.aws/credentials is never read. */
  credentialsFile: string;
  delivered: readonly DeliveredConfig[];
  /** envName → token. */
  genericTokens: ReadonlyMap<string, string>;
  /** Served credentials: the container-credentials endpoint of the default configuration. */
  container?: { url: string; authorizationToken: string };
  /** The agent's CAs added to what the command trusts (see child-ca.ts). */
  ca?: { awsCaBundle: string; nodeExtraCaCerts: string };
  runId: string;
}

export function isRemovedVariable(name: string): boolean {
  return REMOVED.includes(name) || REMOVED_PREFIXES.some((p) => name.startsWith(p));
}

export function buildChildEnv(input: ChildEnvInput): Env {
  const env: Env = {};
  for (const [k, v] of Object.entries(input.parent)) if (v !== undefined) env[k] = v;
  for (const [k, v] of input.workspace) env[k] = v;
  for (const k of Object.keys(env)) if (isRemovedVariable(k)) delete env[k];

  const { config } = input;
  env.AWS_CONFIG_FILE = input.defaultConfigFile;
  env.AWS_SHARED_CREDENTIALS_FILE = input.credentialsFile;
  env.AWS_SDK_LOAD_CONFIG = '1';
  // Without this, an SDK that finds nothing else would take the host's instance-role credentials.
  env.AWS_EC2_METADATA_DISABLED = 'true';
  env.AWS_REGION = config.region;
  env.AWS_DEFAULT_REGION = config.region;
  if (config.stsEndpoint !== undefined) env.AWS_ENDPOINT_URL_STS = config.stsEndpoint;
  if (config.iamEndpoint !== undefined) env.AWS_ENDPOINT_URL_IAM = config.iamEndpoint;

  const def = config.aws.find((a) => a.tag === '');
  const defFiles = input.delivered.find((d) => d.tag === '');
  if (input.container && def) {
    env.AWS_CONTAINER_CREDENTIALS_FULL_URI = input.container.url;
    env.AWS_CONTAINER_AUTHORIZATION_TOKEN = input.container.authorizationToken;
  } else if (def && defFiles?.tokenFile && def.chain.length === 0 && config.aws.length === 1) {
    // SDKs (the Go SDK v2 inside Terraform's AWS provider among them) prefer these variables to any
    // config file, even one a provider block names in shared_config_files. So they are set only for
    // a lone, unchained default configuration: with a chain the SDK would stop at the web identity
    // role, and with aliases every alias provider would silently get the default role.
    env.AWS_ROLE_ARN = def.roleArn;
    env.AWS_WEB_IDENTITY_TOKEN_FILE = defFiles.tokenFile;
    env.AWS_ROLE_SESSION_NAME = config.sessionName;
  }

  if (config.aws.length > 0) {
    const aliases: Record<string, { shared_config_file: string }> = {};
    for (const d of input.delivered) if (d.tag !== '') aliases[d.tag] = { shared_config_file: d.configFile };
    env.TF_VAR_tfc_aws_dynamic_credentials = JSON.stringify({
      default: { shared_config_file: input.defaultConfigFile },
      aliases,
    });
  }
  if (input.ca) {
    // What the agent was told to trust, the child trusts too; the files include what it inherited.
    env.AWS_CA_BUNDLE = input.ca.awsCaBundle;
    env.NODE_EXTRA_CA_CERTS = input.ca.nodeExtraCaCerts;
  }
  for (const [name, token] of input.genericTokens) env[name] = token;
  env.TFC_RUN_ID = input.runId;
  env.GATEPASS_RUN_ID = input.runId;
  env.GATEPASS_RUN_PHASE = config.phase;
  return env;
}
