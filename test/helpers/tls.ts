// Test PKI made with the openssl CLI (node:crypto cannot issue certificates): a CA and a server
// certificate for 127.0.0.1/localhost signed by it, plus the CA's SHA-1 thumbprint as IAM wants it.
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  caPem: string;
  certPem: string;
  keyPem: string;
  /** Hex SHA-1 of the CA certificate (the top of the chain the server presents). */
  caThumbprint: string;
  /** The server certificate followed by the CA, as a server presents its chain. */
  chainPem: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function makeTestPki(commonName = 'gatepass test CA'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'gatepass-pki-'));
  try {
    openssl(dir, [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${commonName}`,
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    openssl(dir, [
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
    ]);
    writeFileSync(
      join(dir, 'ext.cnf'),
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n',
    );
    openssl(dir, [
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
      '2',
      '-extfile',
      'ext.cnf',
      '-out',
      'server.pem',
    ]);
    const caPem = readFileSync(join(dir, 'ca.pem'), 'utf8');
    const certPem = readFileSync(join(dir, 'server.pem'), 'utf8');
    return {
      caPem,
      certPem,
      keyPem: readFileSync(join(dir, 'server.key'), 'utf8'),
      caThumbprint: createHash('sha1').update(new X509Certificate(caPem).raw).digest('hex'),
      chainPem: certPem + caPem,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
