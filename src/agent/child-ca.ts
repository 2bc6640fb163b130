// What the command trusts: the CAs the agent was told to trust (--ca) on top of what the command
// would trust anyway. botocore and the Go SDK (Terraform's provider) take AWS_CA_BUNDLE as their
// whole trust store, so the child's bundle is the agent's CAs plus the inherited AWS_CA_BUNDLE, or
// plus the public roots (Node's) when there is none. Node adds NODE_EXTRA_CA_CERTS to its own roots,
// so that file is the agent's CAs plus the inherited one. SSL_CERT_FILE is left alone: it would
// replace the system roots of every TLS client in the run.
import { readFile } from 'node:fs/promises';
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

const joinPems = (pems: readonly string[]): string => `${pems.map((p) => p.trim()).join('\n')}\n`;

/** The child's AWS_CA_BUNDLE: the agent's CAs, then the inherited bundle or the public roots. */
export function awsCaBundleText(ca: readonly string[], inherited: string | undefined): string {
  return joinPems([...ca, ...(inherited !== undefined ? [inherited] : rootCertificates)]);
}

/** The child's NODE_EXTRA_CA_CERTS: the agent's CAs, then the inherited extra CAs. */
export function nodeExtraCaText(ca: readonly string[], inherited: string | undefined): string {
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
  const read = async (name: string, path: string | undefined): Promise<string | undefined> => {
    if (path === undefined || path === '') return undefined;
    try {
      return await readFile(path, 'utf8');
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
  const aws = await read('AWS_CA_BUNDLE', inherited.awsCaBundle);
  const node = await read('NODE_EXTRA_CA_CERTS', inherited.nodeExtraCaCerts);
  await writePrivateFile(files.awsCaBundle, awsCaBundleText(ca, aws));
  await writePrivateFile(files.nodeExtraCaCerts, nodeExtraCaText(ca, node));
  return files;
}
