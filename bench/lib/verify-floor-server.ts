// The verification floor anchor: a raw node:http server that does only what no AssumeRoleWithWebIdentity
// can skip, checking the token's RS256 signature once per request, and answers a document as large as
// gatepass's. No parameter rules, provider, trust policy, sealing or audit: what gatepass does beyond
// this row is the price of those. argv: port, the issuer's public JWK (JSON), the response size.
import { createPublicKey, verify } from 'node:crypto';
import { createServer } from 'node:http';

const key = createPublicKey({ key: JSON.parse(process.argv[3] ?? '{}'), format: 'jwk' });
const filler = 'x'.repeat(Math.max(0, Number(process.argv[4] ?? 0) - 120));

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const token = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('WebIdentityToken') ?? '';
    const [header = '', payload = '', signature = ''] = token.split('.');
    const ok = verify(
      'sha256',
      Buffer.from(`${header}.${payload}`),
      key,
      Buffer.from(signature, 'base64url'),
    );
    const sub = ok
      ? String((JSON.parse(Buffer.from(payload, 'base64url').toString()) as { sub?: unknown }).sub)
      : '';
    const body = `<FloorResponse><Subject>${sub}</Subject><Filler>${filler}</Filler></FloorResponse>`;
    res.writeHead(ok ? 200 : 403, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const addr = server.address();
  if (addr && typeof addr === 'object') process.stdout.write(`${JSON.stringify({ port: addr.port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
