// What the command trusts: the CAs the agent was told to trust (--ca) on top of what the command
// would trust anyway. botocore and the Go SDK (Terraform's provider) take AWS_CA_BUNDLE as their
// whole trust store, so the child's bundle is the agent's CAs plus the inherited AWS_CA_BUNDLE, or
// plus the public roots (Node's) when there is none. Node adds NODE_EXTRA_CA_CERTS to its own roots,
// so that file is the agent's CAs plus the inherited one. SSL_CERT_FILE is left alone: it would
// replace the system roots of every TLS client in the run.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { writePrivateFile } from './secure-files.js';

export const AWS_CA_FILE = 'aws-ca-bundle.pem';
export const NODE_CA_FILE = 'node-extra-ca.pem';

export interface ChildCaFiles {
  awsCaBundle: string;
  nodeExtraCaCerts: string;
  /** Inherited CA files that could not be read (the child would not have read them either). */
  warnings: string[];
}

type Pem = string | Buffer;

const NEWLINE = Buffer.from('\n');
const isSpace = (b: number | undefined): boolean => b === 0x20 || (b !== undefined && b >= 0x09 && b <= 0x0d);

/** The PEM text without surrounding whitespace (nor a UTF-8 byte order mark), as bytes. */
function trimmed(pem: Pem): Buffer {
  const b = typeof pem === 'string' ? Buffer.from(pem, 'utf8') : pem;
  let start = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
  let end = b.length;
  while (start < end && isSpace(b[start])) start++;
  while (end > start && isSpace(b[end - 1])) end--;
  return b.subarray(start, end);
}

/**
 * Each PEM text trimmed and ended by a newline, as the chunks of one file. Bytes, not strings, and
 * not joined: an inherited bundle (often the system's, a few hundred KB) goes to the file as it was
 * read, never decoded, encoded or copied again.
 */
const joinPems = (pems: readonly Pem[]): Buffer[] => pems.flatMap((p) => [trimmed(p), NEWLINE]);

/** The child's AWS_CA_BUNDLE: the agent's CAs, then the inherited bundle or the public roots. */
export function awsCaBundle(ca: readonly string[], inherited: Pem | undefined): Buffer[] {
  return joinPems([...ca, ...(inherited !== undefined ? [inherited] : rootCertificates)]);
}

/** The child's NODE_EXTRA_CA_CERTS: the agent's CAs, then the inherited extra CAs. */
export function nodeExtraCa(ca: readonly string[], inherited: Pem | undefined): Buffer[] {
  return joinPems([...ca, ...(inherited !== undefined ? [inherited] : [])]);
}

/**
 * Write both files into the run directory. `inherited` holds the paths the command would have got
 * (the agent's environment, overridden by workspace variables).
 */
export async function writeChildCa(
  dir: string,
  ca: readonly string[],
  inherited: { awsCaBundle?: string | undefined; nodeExtraCaCerts?: string | undefined },
): Promise<ChildCaFiles> {
  const warnings: string[] = [];
  // Synchronous, as the writes (secure-files.ts).
  const read = (name: string, path: string | undefined): Buffer | undefined => {
    if (path === undefined || path === '') return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      warnings.push(
        `${name} ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}); the command gets the CA given to the agent without it`,
      );
      return undefined;
    }
  };
  const files: ChildCaFiles = {
    awsCaBundle: join(dir, AWS_CA_FILE),
    nodeExtraCaCerts: join(dir, NODE_CA_FILE),
    warnings,
  };
  const aws = read('AWS_CA_BUNDLE', inherited.awsCaBundle);
  // The same file for both (a system bundle set in both variables) is read once.
  const node =
    inherited.nodeExtraCaCerts === inherited.awsCaBundle && aws !== undefined
      ? aws
      : read('NODE_EXTRA_CA_CERTS', inherited.nodeExtraCaCerts);
  await writePrivateFile(files.awsCaBundle, awsCaBundle(ca, aws));
  await writePrivateFile(files.nodeExtraCaCerts, nodeExtraCa(ca, node));
  return files;
}
