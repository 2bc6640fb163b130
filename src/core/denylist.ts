// The revoked-runs deny list: the content of gatepass-managed service control policies that deny
// every action to sessions whose `aws:SourceIdentity` is an ended run's id. Pure: parse what a policy
// holds, add a run, prune what expired, render, and spread entries over several policies within
// AWS's SCP size limit. The writer (agent/deny-list.ts) does the reading and writing.
//
// One statement per expiry bucket: its Sid names the bucket's end (`GatepassDenyUntil<epoch s>`),
// its condition lists the run ids whose sessions may live until then. A bucket whose end has passed
// denies only sessions that have expired anyway, so it is pruned.

/** AWS's limit on an SCP document (characters, whitespace not counted). */
export const SCP_MAX_CHARS = 5120;
/** AWS's limit on SCPs attached to one target (the root, an OU or an account), FullAWSAccess included. */
export const SCPS_PER_TARGET = 5;
/** Entries share a bucket per hour: a run's entry lives at most this much past its sessions. */
export const BUCKET_MS = 3_600_000;

const SID = /^GatepassDenyUntil(\d{1,12})$/;
/** A source identity AWS accepts: 2–64 of [\w+=,.@-] (so a run id fits, and no wildcard does). */
const SOURCE_IDENTITY = /^[\w+=,.@-]{2,64}$/;
/**
 * The one statement of an empty list (AWS refuses a policy without statements): a value no session
 * can carry (a space is not a source identity character), so it denies nothing.
 */
const EMPTY_SID = 'GatepassDenyListEmpty';
const NOBODY = 'gatepass deny list is empty';

export interface DenyListOptions {
  /**
   * Principals the deny never applies to (`aws:PrincipalArn` patterns): the revoker role, whose
   * own session carries the run id it writes and must still read its write back.
   */
  exempt: readonly string[];
}

/** Run id → the time (epoch ms, a bucket end) until which its sessions are denied. */
export type DenyEntries = Map<string, number>;

export class DenyListError extends Error {
  constructor(
    readonly code: 'NotDenyList' | 'Full' | 'BadRunId',
    message: string,
  ) {
    super(message);
    this.name = 'DenyListError';
  }
}

/** The bucket a run's entry goes to: the first bucket end at or after `until`. */
export function bucketEnd(until: number): number {
  return Math.ceil(until / BUCKET_MS) * BUCKET_MS;
}

interface Statement {
  Sid?: unknown;
  Condition?: { StringEquals?: Record<string, unknown> };
}

/** The entries a deny-list policy holds; a policy gatepass did not write is refused, not overwritten. */
export function parseDenyList(content: string): DenyEntries {
  let doc: { Statement?: unknown };
  try {
    doc = JSON.parse(content) as { Statement?: unknown };
  } catch {
    throw new DenyListError('NotDenyList', 'the policy is not JSON');
  }
  const statements = Array.isArray(doc.Statement) ? (doc.Statement as Statement[]) : undefined;
  if (!statements) throw new DenyListError('NotDenyList', 'the policy has no Statement list');
  const out: DenyEntries = new Map();
  for (const s of statements) {
    const sid = typeof s.Sid === 'string' ? s.Sid : '';
    if (sid === EMPTY_SID) continue;
    const m = SID.exec(sid);
    if (!m) throw new DenyListError('NotDenyList', `statement ${JSON.stringify(sid)} is not gatepass's`);
    const until = Number(m[1]) * 1000;
    const raw = s.Condition?.StringEquals?.['aws:SourceIdentity'];
    const ids = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw : [];
    for (const id of ids) {
      if (typeof id !== 'string') continue;
      out.set(id, Math.max(out.get(id) ?? 0, until));
    }
  }
  return out;
}

function exemption(o: DenyListOptions): Record<string, unknown> {
  if (o.exempt.length === 0) return {};
  return { ArnNotLike: { 'aws:PrincipalArn': o.exempt.length === 1 ? o.exempt[0] : [...o.exempt] } };
}

/** The policy document for these entries, minified, buckets in time order, ids sorted. */
export function renderDenyList(entries: DenyEntries, o: DenyListOptions): string {
  const buckets = new Map<number, string[]>();
  for (const [id, until] of entries) buckets.set(until, [...(buckets.get(until) ?? []), id]);
  const statements = [...buckets.keys()]
    .sort((a, b) => a - b)
    .map((until) => {
      const ids = (buckets.get(until) ?? []).sort();
      return {
        Sid: `GatepassDenyUntil${Math.floor(until / 1000)}`,
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: {
          StringEquals: { 'aws:SourceIdentity': ids.length === 1 ? ids[0] : ids },
          ...exemption(o),
        },
      };
    });
  if (statements.length === 0)
    statements.push({
      Sid: EMPTY_SID,
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: { StringEquals: { 'aws:SourceIdentity': NOBODY }, ...exemption(o) },
    });
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

/** Entries still in force at `now` (a bucket whose end has passed denies only expired sessions). */
export function prune(entries: DenyEntries, now: number): DenyEntries {
  return new Map([...entries].filter(([, until]) => until > now));
}

/** The size AWS counts: characters, whitespace excluded. */
export function policySize(content: string): number {
  return content.replace(/[ \t\n\r]/g, '').length;
}

export interface PlannedWrite {
  /** Index into the policies given. */
  index: number;
  content: string;
}

/**
 * Where a run's entry goes, given every deny-list policy's current content: the policy that already
 * holds it (extended if needed), else the first with room; every policy that pruning shrinks is
 * rewritten too. Throws `Full` when no policy has room, naming how many runs the list holds.
 */
export function planAdd(
  contents: readonly string[],
  runId: string,
  until: number,
  now: number,
  o: DenyListOptions,
): PlannedWrite[] {
  if (!SOURCE_IDENTITY.test(runId))
    throw new DenyListError('BadRunId', `${JSON.stringify(runId)} cannot be a source identity`);
  const end = bucketEnd(until);
  const current = contents.map(parseDenyList);
  const live = current.map((e) => prune(e, now));
  const writes = new Map<number, string>();
  for (const [i, e] of live.entries()) if (e.size !== current[i]?.size) writes.set(i, renderDenyList(e, o));

  const holder = live.findIndex((e) => e.has(runId));
  const candidates = holder >= 0 ? [holder] : live.map((_, i) => i);
  for (const i of candidates) {
    const e = live[i] ?? new Map<string, number>();
    if ((e.get(runId) ?? 0) >= end) return [...writes].map(([index, content]) => ({ index, content }));
    const next = new Map(e).set(runId, Math.max(end, e.get(runId) ?? 0));
    const content = renderDenyList(next, o);
    if (policySize(content) <= SCP_MAX_CHARS) {
      writes.set(i, content);
      return [...writes].map(([index, c]) => ({ index, content: c })).sort((a, b) => a.index - b.index);
    }
  }
  const held = live.reduce((n, e) => n + e.size, 0);
  throw new DenyListError(
    'Full',
    `the deny list is full: ${contents.length} polic${contents.length === 1 ? 'y holds' : 'ies hold'} ${held} revoked run${held === 1 ? '' : 's'} and none has room for ${runId}`,
  );
}

/** Whether `content` denies `runId` until at least `until`. */
export function denies(content: string, runId: string, until: number): boolean {
  return (parseDenyList(content).get(runId) ?? 0) >= bucketEnd(until);
}
