// The `credential_process` of a served configuration's shared config file. An SDK given a file
// (AWS_CONFIG_FILE, a Terraform provider's shared_config_files, fromIni) runs this command and reads
// credentials from its stdout; the command asks the agent's loopback credential endpoint, so the
// child never holds a token and never calls an STS itself. aws-cli v1/v2, boto3, the JS SDK v3 and
// the Go SDK v2 (hence Terraform's AWS provider) all read `credential_process`, however old.
import { AgentError } from './errors.js';

export const PROCESS_SCRIPT_FILE = 'credential-process.mjs';
/** The endpoint's authorization token, read by the script (never on a command line). */
export const ENDPOINT_TOKEN_FILE = 'credential-endpoint.token';

/**
 * Plain Node, no dependencies, so it runs with the agent's own `node` from the run directory whether
 * the agent runs from source or from a build. Prints the `credential_process` JSON (Version 1), or
 * one line on stderr and exit 1; never the token or a credential in an error.
 */
export const PROCESS_SCRIPT = `// gatepass: prints one configuration's credentials from the agent's loopback endpoint.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';

const fail = (why) => {
  process.stderr.write('gatepass credential_process: ' + why + '\\n');
  process.exit(1);
};
let token;
try {
  token = readFileSync(new URL('./${ENDPOINT_TOKEN_FILE}', import.meta.url), 'utf8');
} catch {
  fail('the run has ended (its credential files are gone)');
}
const req = request(process.argv[2], { headers: { authorization: token }, timeout: 60000 }, (res) => {
  const chunks = [];
  res.on('data', (c) => chunks.push(c));
  res.on('end', () => {
    let body = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {}
    if (res.statusCode !== 200) fail('HTTP ' + res.statusCode + ' ' + (body.Code ?? '') + ': ' + (body.Message ?? ''));
    process.stdout.write(
      JSON.stringify({
        Version: 1,
        AccessKeyId: body.AccessKeyId,
        SecretAccessKey: body.SecretAccessKey,
        SessionToken: body.Token,
        Expiration: body.Expiration,
      }),
    );
  });
});
req.on('timeout', () => req.destroy(new Error('timed out')));
req.on('error', (e) => fail("the agent's credential endpoint is unreachable (" + (e.code ?? e.message) + ')'));
req.end();
`;

/**
 * Characters every reader takes literally without quotes: POSIX sh (the Go and JS SDKs run the
 * command with sh -c), shlex (botocore) and the Go SDK's ini reader, which drops what follows a
 * quoted string, so quoting is not an option.
 */
const PLAIN_WORD = /^[\w./+@:,=-]+$/;

function plain(word: string): string {
  if (!PLAIN_WORD.test(word))
    throw new AgentError('unsafe_path', [
      `${word} has characters a credential_process command cannot carry (use a TMPDIR and node path of letters, digits and ./_+@:,=-)`,
    ]);
  return word;
}

/** `<node> <script> <url>`: the same three words for every SDK's reader. */
export function processCommand(nodePath: string, scriptPath: string, url: string): string {
  if (!/^http:\/\/127\.0\.0\.1:\d+\/[\w-]+$/.test(url))
    throw new Error(`not a loopback endpoint URL: ${url}`);
  return `${plain(nodePath)} ${plain(scriptPath)} ${url}`;
}
