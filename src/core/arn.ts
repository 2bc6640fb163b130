// ARN parsing and formatting: arn:partition:service:region:account:resource (the resource part may
// itself contain ':' and '/').

export interface Arn {
  partition: string;
  service: string;
  region: string;
  account: string;
  resource: string;
}

export function parseArn(text: string): Arn | undefined {
  if (!text.startsWith('arn:')) return undefined;
  const parts = text.split(':');
  if (parts.length < 6) return undefined;
  const [, partition, service, region, account] = parts;
  if (!partition || !service || region === undefined || account === undefined) return undefined;
  return { partition, service, region, account, resource: parts.slice(5).join(':') };
}

export const roleArn = (account: string, path: string, name: string): string =>
  `arn:aws:iam::${account}:role${path}${name}`;
export const userArn = (account: string, path: string, name: string): string =>
  `arn:aws:iam::${account}:user${path}${name}`;
export const policyArn = (account: string, path: string, name: string): string =>
  `arn:aws:iam::${account}:policy${path}${name}`;
export const accountRootArn = (account: string): string => `arn:aws:iam::${account}:root`;
/** The assumed-role ARN names the role without its path. */
export const assumedRoleArn = (account: string, roleName: string, sessionName: string): string =>
  `arn:aws:sts::${account}:assumed-role/${roleName}/${sessionName}`;
/** `arn:aws:iam::<acct>:oidc-provider/<url without https://>` */
export const oidcProviderArn = (account: string, url: string): string =>
  `arn:aws:iam::${account}:oidc-provider/${url.replace(/^https:\/\//, '')}`;
