// The verification floor anchor: a raw node:http server that does only what no AssumeRoleWithWebIdentity
// can skip, checking the token's RS256 signature once per request, and answers a document as large as
// gatepass's. No parameter rules, provider, trust policy, sealing or audit: what gatepass does beyond
// this row is the price of those. argv: port, the issuer's public JWK (JSON), the response size, and
// optionally a SQLite file: the durable floor.
//
// The durable floor adds the least a server that keeps issue 23's rule must do, "the audit record is
// durable before the credentials leave": one row per verified call (its time and the token's claims),
// committed to SQLite in WAL mode with every commit synced (synchronous=FULL, as gatepass), the calls
// of one event-loop turn in one commit, each answered only once its row is committed. No indexes and
// no other record: what gatepass's own audit and logic cost beyond it is theirs.
import { createPublicKey, verify } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import Database from 'better-sqlite3';

const key = createPublicKey({ key: JSON.parse(process.argv[3] ?? '{}'), format: 'jwk' });
const filler = 'x'.repeat(Math.max(0, Number(process.argv[4] ?? 0) - 120));

interface Pending {
  claims: string;
  res: ServerResponse;
  body: string;
}

/** Commits each turn's verified calls in one synced transaction, then answers them. */
function durableRecorder(path: string): (pending: Pending) => void {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(
    'CREATE TABLE IF NOT EXISTS issued (seq INTEGER PRIMARY KEY, time INTEGER NOT NULL, claims TEXT NOT NULL)',
  );
  const insert = db.prepare('INSERT INTO issued (time, claims) VALUES (?, ?)');
  const commit = db.transaction((batch: readonly Pending[]) => {
    const now = Date.now();
    for (const p of batch) insert.run(now, p.claims);
  });
  let queue: Pending[] = [];
  const flush = (): void => {
    const batch = queue;
    queue = [];
    let status = 200;
    try {
      commit.immediate(batch);
    } catch {
      status = 500;
    }
    for (const p of batch) answer(p.res, status, status === 200 ? p.body : '<Error/>');
  };
  return (pending) => {
    if (queue.push(pending) === 1) setImmediate(flush);
  };
}

function answer(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const record = process.argv[5] ? durableRecorder(process.argv[5]) : undefined;

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
    if (!ok) return answer(res, 403, '<Error/>');
    const claims = Buffer.from(payload, 'base64url').toString();
    const sub = String((JSON.parse(claims) as { sub?: unknown }).sub);
    const body = `<FloorResponse><Subject>${sub}</Subject><Filler>${filler}</Filler></FloorResponse>`;
    if (record) record({ claims, res, body });
    else answer(res, 200, body);
  });
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const addr = server.address();
  if (addr && typeof addr === 'object') process.stdout.write(`${JSON.stringify({ port: addr.port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
