// The AWS shared config file of one configuration. Against AWS's own STS, `[default]` is the last
// hop: the web identity profile itself, or the last chained profile (`role_arn` + `source_profile`),
// so a plain `provider "aws" {}` (or any SDK) given only this file walks web identity → chain by
// itself, and re-walks it when the sessions expire, re-reading the token file. When the agent serves
// the credentials (any other STS, or --refresh), `[default]` has a `credential_process` that asks
// the agent's loopback endpoint. Endpoints for a
// non-AWS STS go in a `services` section, for the child's own calls (read by aws-cli ≥ 2.13,
// botocore ≥ 1.31, the JS SDK and Terraform's provider; older clients need their own endpoint flag).

export const WEB_IDENTITY_PROFILE = 'gatepass-web-identity';
export const SERVICES_SECTION = 'gatepass';
export const chainProfile = (hop: number): string => `gatepass-chain-${hop}`;

export interface SharedConfigInput {
  region: string;
  /** `[default]` gets this `credential_process` (and no other credentials may be given). */
  credentialProcess?: string;
  /** Absent: a file with region and endpoints only (no credentials in it). */
  credentials?: {
    roleArn: string;
    tokenFile: string;
    sessionName: string;
    chain: readonly string[];
  };
  stsEndpoint?: string;
  iamEndpoint?: string;
}

type Entries = ReadonlyArray<readonly [string, string]>;

function section(header: string, entries: Entries): string {
  return `[${header}]\n${entries.map(([k, v]) => `${k} = ${v}\n`).join('')}`;
}

export function renderSharedConfig(input: SharedConfigInput): string {
  const common: Array<readonly [string, string]> = [['region', input.region]];
  const hasEndpoints = input.stsEndpoint !== undefined || input.iamEndpoint !== undefined;
  if (hasEndpoints) common.push(['services', SERVICES_SECTION]);

  const sections: string[] = [];
  const cred = input.credentials;
  if (input.credentialProcess !== undefined) {
    if (cred) throw new Error('a profile has either a credential_process or web identity credentials');
    sections.push(section('default', [['credential_process', input.credentialProcess], ...common]));
  } else if (!cred) {
    sections.push(section('default', common));
  } else {
    const webIdentity: Entries = [
      ['role_arn', cred.roleArn],
      ['web_identity_token_file', cred.tokenFile],
      ['role_session_name', cred.sessionName],
      ...common,
    ];
    const hops: Entries[] = cred.chain.map((arn, i) => [
      ['role_arn', arn],
      ['source_profile', i === 0 ? WEB_IDENTITY_PROFILE : chainProfile(i)],
      ['role_session_name', cred.sessionName],
      ...common,
    ]);
    const last = hops.length > 0 ? hops[hops.length - 1] : webIdentity;
    sections.push(section('default', last ?? common));
    sections.push(section(`profile ${WEB_IDENTITY_PROFILE}`, webIdentity));
    hops.forEach((entries, i) => {
      sections.push(section(`profile ${chainProfile(i + 1)}`, entries));
    });
  }
  if (hasEndpoints) {
    let body = `[services ${SERVICES_SECTION}]\n`;
    if (input.stsEndpoint !== undefined) body += `sts =\n  endpoint_url = ${input.stsEndpoint}\n`;
    if (input.iamEndpoint !== undefined) body += `iam =\n  endpoint_url = ${input.iamEndpoint}\n`;
    sections.push(body);
  }
  return sections.join('\n');
}
