// How to use a bootstrap administrator's profile with aws-cli: printed by `gatepass serve` (first
// start) and `gatepass apply` (new accounts). Names only the file and the profile, never a secret.

/** Single-quote a shell word unless it is plainly safe. */
const shellWord = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

// The region is on the command line: aws-cli v1 reads neither AWS_REGION nor a default, and
// gatepass accepts any region.
export function awsCliUsage(profile: string, credentialsFile: string, endpoint: string): string {
  return `AWS_SHARED_CREDENTIALS_FILE=${shellWord(credentialsFile)} aws --profile ${shellWord(profile)} --region us-east-1 --endpoint-url ${shellWord(endpoint)} sts get-caller-identity`;
}

/** The node's AWS endpoint as clients reach it, from its listen settings. */
export function endpointOf(config: {
  host: string;
  port: number;
  tlsCert?: string;
  tlsAutoHost?: string;
}): string {
  const scheme = config.tlsCert !== undefined || config.tlsAutoHost !== undefined ? 'https' : 'http';
  const host =
    config.tlsAutoHost ?? (config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host);
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}
