// A local certificate authority and a server certificate for the issuer's host name, so a private
// issuer can serve discovery over HTTPS that AWS (via the thumbprint) or a gatepass cloud (via the
// CA file) can trust. node:crypto cannot issue X.509 certificates, so this drives the openssl CLI.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface LocalTls {
  caPath: string;
  /** The server certificate followed by the CA: the chain the server presents. */
  certPath: string;
  keyPath: string;
  /** Hex SHA-1 of the CA certificate (the top of the presented chain), as IAM's ThumbprintList wants. */
  thumbprint: string;
}

export class LocalCaError extends Error {
  override readonly name = 'LocalCaError';
}

async function openssl(dir: string, args: readonly string[]): Promise<void> {
  try {
    await run('openssl', [...args], { cwd: dir });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new LocalCaError(
      code === 'ENOENT' ? 'the openssl command is not installed' : `openssl ${args[0]} failed`,
    );
  }
}

export function thumbprintOf(pem: string): string {
  return new X509Certificate(pem).fingerprint.replaceAll(':', '').toLowerCase();
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** Create what is missing (the CA once; the server certificate when absent or for another host). */
export async function ensureLocalTls(options: { dir: string; host: string }): Promise<LocalTls> {
  const { dir, host } = options;
  if (!/^[A-Za-z0-9.:-]{1,253}$/.test(host))
    throw new LocalCaError('tlsAutoHost must be a host name or IP address');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caPath = join(dir, 'ca.pem');
  const certPath = join(dir, 'server-chain.pem');
  const keyPath = join(dir, 'server.key');
  if (!existsSync(caPath) || !existsSync(join(dir, 'ca.key'))) {
    await openssl(dir, [
      'req',
      '-x509',
      ...EC,
      '-days',
      '3650',
      '-subj',
      '/CN=gatepass local CA',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
  }
  const caPem = readFileSync(caPath, 'utf8');
  const current = existsSync(certPath) && existsSync(keyPath) ? readFileSync(certPath, 'utf8') : undefined;
  const fits =
    current !== undefined &&
    (isIP(host)
      ? new X509Certificate(current).checkIP(host)
      : new X509Certificate(current).checkHost(host)) !== undefined;
  if (!fits) {
    const san = isIP(host) ? `IP:${host}` : `DNS:${host}`;
    writeFileSync(
      join(dir, 'server.ext'),
      `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`,
    );
    await openssl(dir, ['req', ...EC, '-subj', `/CN=${host}`, '-keyout', 'server.key', '-out', 'server.csr']);
    await openssl(dir, [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '397',
      '-extfile',
      'server.ext',
      '-out',
      'server.pem',
    ]);
    writeFileSync(certPath, readFileSync(join(dir, 'server.pem'), 'utf8') + caPem);
  }
  return { caPath, certPath, keyPath, thumbprint: thumbprintOf(caPem) };
}
