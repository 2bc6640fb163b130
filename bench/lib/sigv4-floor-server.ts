// The SigV4 floor anchor: a raw node:http server that does only what no GetCallerIdentity can skip,
// verifying the request's SigV4 signature (header form), and answers a document as large as
// gatepass's. Per request: parse the Authorization header, hash the body against
// x-amz-content-sha256, build the canonical request from the signed headers, hash it, one HMAC with
// the signing key (derived once per key and scope, as any verifier caches it), a constant-time
// compare and the 15-minute clock check. No session token opening, expiry, revocation, caller
// resolution or request record: what gatepass does beyond this row is the price of those.
// argv: port, the response size. Standard input: a JSON object of access key id → secret key
// (never argv, which any local user can read).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

const secrets = new Map(
  Object.entries(JSON.parse(readFileSync(0, 'utf8') || '{}') as Record<string, string>),
);
const filler = 'x'.repeat(Math.max(0, Number(process.argv[3] ?? 0) - 120));
const signingKeys = new Map<string, Buffer>();
const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;
const SKEW_MS = 15 * 60 * 1000;
const INNER_FOLD = /[\t\r\n]| {2}/;
const needsFold = (t: string): boolean =>
  t.charCodeAt(0) === 32 || t.charCodeAt(t.length - 1) === 32 || INNER_FOLD.test(t);

const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();
const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

function signingKey(keyId: string, secret: string, scope: string[]): Buffer {
  const id = `${keyId}/${scope.join('/')}`;
  let key = signingKeys.get(id);
  if (!key) {
    const [date = '', region = '', service = ''] = scope;
    key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
    signingKeys.set(id, key);
  }
  return key;
}

/** The caller's access key id when the signature holds, undefined otherwise. */
function verified(req: IncomingMessage, body: Buffer): string | undefined {
  const m = AUTH.exec(req.headers.authorization ?? '');
  const amzDate = req.headers['x-amz-date'];
  if (!m || typeof amzDate !== 'string') return undefined;
  const [, keyId = '', date = '', region = '', service = '', signedHeaders = '', signature = ''] = m;
  const secret = secrets.get(keyId);
  if (secret === undefined || !amzDate.startsWith(date)) return undefined;
  const at = Date.parse(amzDate.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'));
  if (!(Math.abs(Date.now() - at) <= SKEW_MS)) return undefined;
  const payloadHash = sha256(body);
  const claimed = req.headers['x-amz-content-sha256'];
  if (claimed !== undefined && claimed !== payloadHash) return undefined;
  const names = signedHeaders.split(';');
  let headers = '';
  for (const name of names) {
    const value = req.headers[name];
    if (value === undefined) return undefined;
    const text = String(value);
    // Folded only when it needs it: the session token is ~1,000 characters of base64.
    headers += `${name}:${needsFold(text) ? text.trim().replace(/\s+/g, ' ') : text}\n`;
  }
  const [path = '/', query = ''] = (req.url ?? '/').split('?');
  const canonical = `${req.method}\n${path}\n${query}\n${headers}\n${signedHeaders}\n${payloadHash}`;
  const scope = [date, region, service];
  const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope.join('/')}/aws4_request\n${sha256(canonical)}`;
  const expected = hmac(signingKey(keyId, secret, scope), toSign);
  return timingSafeEqual(expected, Buffer.from(signature, 'hex')) ? keyId : undefined;
}

function answer(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const keyId = verified(req, Buffer.concat(chunks));
    if (keyId === undefined) return answer(res, 403, '<Error/>');
    answer(res, 200, `<FloorResponse><KeyId>${keyId}</KeyId><Filler>${filler}</Filler></FloorResponse>`);
  });
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const addr = server.address();
  if (addr && typeof addr === 'object') process.stdout.write(`${JSON.stringify({ port: addr.port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
