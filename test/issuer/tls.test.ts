import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureLocalTls } from '../../src/issuer/local-ca.js';
import { startTestServer } from './server.js';

function httpsGet(url: string, ca: string): Promise<{ status: number; body: string; chain: string[] }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      const chain: string[] = [];
      const socket = res.socket as import('node:tls').TLSSocket;
      let cert = socket.getPeerCertificate(true);
      const seen = new Set<string>();
      while (cert && !seen.has(cert.fingerprint)) {
        seen.add(cert.fingerprint);
        chain.push(cert.fingerprint.replaceAll(':', '').toLowerCase());
        cert = cert.issuerCertificate;
      }
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), chain }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

test('tlsAutoHost serves HTTPS from a local CA whose SHA-1 thumbprint tops the presented chain', async () => {
  const s = await startTestServer({ tlsAutoHost: '127.0.0.1' });
  const tlsDir = join(s.dataDir, 'tls');
  let thumbprint = '';
  try {
    assert.match(s.url, /^https:\/\//);
    const caPem = readFileSync(join(tlsDir, 'ca.pem'), 'utf8');
    thumbprint = createHash('sha1').update(new X509Certificate(caPem).raw).digest('hex');
    assert.match(s.logText(), new RegExp(`"thumbprint":"${thumbprint}"`));
    assert.equal(statSync(join(tlsDir, 'server.key')).mode & 0o077, 0, 'the server key is owner-only');
    assert.equal(statSync(join(tlsDir, 'ca.key')).mode & 0o077, 0, 'the CA key is owner-only');
    const r = await httpsGet(`${s.url}/.well-known/openid-configuration`, caPem);
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body) as { issuer: string }).issuer, s.url);
    assert.equal(r.chain.at(-1), thumbprint, 'the CA is the top of the chain the server presents');
  } finally {
    await s.stop();
  }
  // A second start reuses the CA (the thumbprint registered in IAM stays valid).
  const again = await ensureLocalTls({ dir: tlsDir, host: '127.0.0.1' });
  assert.equal(again.thumbprint, thumbprint);
  const other = await ensureLocalTls({ dir: tlsDir, host: 'issuer.example.test' });
  assert.equal(other.thumbprint, thumbprint);
  assert.ok(new X509Certificate(readFileSync(other.certPath)).checkHost('issuer.example.test'));
});

test("gatepass's own STS verifier accepts a minted token, trusting the issuer by thumbprint alone as AWS does", async () => {
  const { verifyWebIdentityToken } = await import('../../src/cloud/oidc/verify.js');
  const { JwksCache } = await import('../../src/cloud/oidc/jwks.js');
  const { httpsGet } = await import('../../src/cloud/oidc/https-get.js');
  const s = await startTestServer({ tlsAutoHost: '127.0.0.1' });
  try {
    const caPem = readFileSync(join(s.dataDir, 'tls', 'ca.pem'), 'utf8');
    const thumbprint = createHash('sha1').update(new X509Certificate(caPem).raw).digest('hex');
    await s.call('POST', '/api/v1/orgs', { body: { name: 'acme' } });
    await s.call('POST', '/api/v1/orgs/acme/workspaces', { body: { name: 'net' } });
    const minted = await s.call('POST', '/api/v1/tokens', {
      body: { organization: 'acme', workspace: 'net', phase: 'apply' },
    });
    const token = String((minted.json as { token?: unknown }).token);
    const provider = {
      id: 'arn:aws:iam::111122223333:oidc-provider/127.0.0.1',
      accountId: '111122223333',
      url: s.url,
      clientIds: ['aws.workload.identity'],
      thumbprints: [thumbprint],
      tags: [],
      createdAt: 0,
    };
    const verified = await verifyWebIdentityToken(token, provider, new JwksCache(httpsGet, s.clock), {
      now: s.clock.now(),
    });
    assert.equal(verified.aud, 'aws.workload.identity');
    assert.equal(
      verified.claims.sub,
      'organization:acme:project:Default Project:workspace:net:run_phase:apply',
    );
  } finally {
    await s.stop();
  }
});
