// The revoked-runs deny list: the content of gatepass-managed service control policies that deny
// every action to sessions whose `aws:SourceIdentity` is an ended run's id. Pure: parse what a policy
// holds, add a run, prune what expired, render, and spread entries over several policies within
// AWS's SCP size limit. The writer (agent/deny-list.ts) does the reading and writing.
//
// One statement per expiry bucket: its Sid names the bucket's end (`GatepassDenyUntil<epoch s>`),
// its condition lists the run ids whose sessions may live until then. A bucket whose end has passed
// denies only sessions that have expired anyway, so it is pruned.

/** AWS's limit on an SCP document (characters, whitespace not counted). */
/**
 * The workspace variable naming a deny list's policies. Where it is set, the issuer's tokens always
 * carry the run id as source identity: a session without one would escape the deny.
 */
export const DENY_LIST_POLICIES_VAR = 'GATEPASS_AWS_DENY_LIST_POLICY_IDS';
export const SCP_MAX_CHARS = 5120;
/** AWS's limit on SCPs attached to one target (the root, an OU or an account), FullAWSAccess included. */
export const SCPS_PER_TARGET = 5;
/** Entries share a bucket per hour: a run's entry lives at most this much past its sessions. */
export const BUCKET_MS = 3_600_000;

const SID = /^GatepassDenyUntil(\d{1,12})(?:R\d{1,4})?$/;
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

/**
 * One revoked run, or one revoked phase of a run: its sessions on these roles only (the phase's
 * roles, so that the run's next phase, on other roles, is not denied with it).
 */
export interface DenyEntry {
  runId: string;
  /** Role ARNs (`aws:PrincipalArn`), sorted; absent: every session of the run. */
  roles?: readonly string[];
  /** Epoch ms, a bucket end. */
  until: number;
}

/** Entries by key (run id, and the roles for a phase entry). */
export type DenyEntries = Map<string, DenyEntry>;

export const entryKey = (runId: string, roles?: readonly string[]): string =>
  roles?.length ? `${runId} ${[...roles].sort().join(',')}` : runId;

export class DenyListError extends Error {
  constructor(
    readonly code: 'NotDenyList' | 'Full' | 'BadRunId' | 'Conflict',
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
  Condition?: { StringEquals?: Record<string, unknown>; ArnLike?: Record<string, unknown> };
}

const strings = (v: unknown): string[] =>
  typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

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
    const roles = strings(s.Condition?.ArnLike?.['aws:PrincipalArn']).sort();
    for (const runId of strings(s.Condition?.StringEquals?.['aws:SourceIdentity'])) {
      const key = entryKey(runId, roles);
      const prev = out.get(key)?.until ?? 0;
      out.set(key, { runId, ...(roles.length ? { roles } : {}), until: Math.max(prev, until) });
    }
  }
  return out;
}

function exemption(o: DenyListOptions): Record<string, unknown> {
  if (o.exempt.length === 0) return {};
  return { ArnNotLike: { 'aws:PrincipalArn': o.exempt.length === 1 ? o.exempt[0] : [...o.exempt] } };
}

const one = (list: readonly string[]): string | string[] => (list.length === 1 ? (list[0] ?? '') : [...list]);

/**
 * The policy document for these entries, minified: one statement per (bucket, roles), buckets in
 * time order, ids sorted. Sids are unique within a policy: a bucket's role-scoped groups are
 * numbered after it (`GatepassDenyUntil<t>` then `GatepassDenyUntil<t>R1`, …).
 */
export function renderDenyList(entries: DenyEntries, o: DenyListOptions): string {
  const groups = new Map<string, { until: number; roles: readonly string[]; ids: string[] }>();
  for (const e of entries.values()) {
    const roles = e.roles ?? [];
    const key = `${e.until} ${roles.join(',')}`;
    const g = groups.get(key) ?? { until: e.until, roles, ids: [] };
    g.ids.push(e.runId);
    groups.set(key, g);
  }
  const ordered = [...groups.values()].sort(
    (a, b) => a.until - b.until || a.roles.join(',').localeCompare(b.roles.join(',')),
  );
  const numbered = new Map<number, number>();
  const statements = ordered.map((g) => {
    const n = numbered.get(g.until) ?? 0;
    numbered.set(g.until, n + 1);
    const base = `GatepassDenyUntil${Math.floor(g.until / 1000)}`;
    return {
      Sid: g.roles.length ? `${base}R${n}` : base,
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: {
        StringEquals: { 'aws:SourceIdentity': one(g.ids.sort()) },
        ...(g.roles.length ? { ArnLike: { 'aws:PrincipalArn': one(g.roles) } } : {}),
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
  return new Map([...entries].filter(([, e]) => e.until > now));
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

export interface DenyRequest {
  runId: string;
  /** A phase's roles; absent: the whole run. */
  roles?: readonly string[];
  /** Until when the run's sessions may live (epoch ms); rounded up to a bucket end. */
  until: number;
}

/**
 * Where an entry goes, given every deny-list policy's current content: the policy that already
 * holds it (extended if needed), else the first with room, preferring one that has its statement; every policy that pruning shrinks is
 * rewritten too. Throws `Full` when no policy has room, naming how many entries the list holds.
 */
export function planAdd(
  contents: readonly string[],
  request: DenyRequest,
  now: number,
  o: DenyListOptions,
): PlannedWrite[] {
  const { runId } = request;
  if (!SOURCE_IDENTITY.test(runId))
    throw new DenyListError('BadRunId', `${JSON.stringify(runId)} cannot be a source identity`);
  const roles = request.roles?.length ? [...request.roles].sort() : undefined;
  const key = entryKey(runId, roles);
  const end = bucketEnd(request.until);
  const current = contents.map(parseDenyList);
  const live = current.map((e) => prune(e, now));
  const writes = new Map<number, string>();
  for (const [i, e] of live.entries()) if (e.size !== current[i]?.size) writes.set(i, renderDenyList(e, o));
  const planned = (): PlannedWrite[] =>
    [...writes].map(([index, content]) => ({ index, content })).sort((a, b) => a.index - b.index);

  const holder = live.findIndex((e) => e.has(key));
  // A policy that already has the entry's statement (same bucket, same roles) takes it at the cost
  // of its id alone; a new statement costs about 200 characters.
  const sameGroup = (e: DenyEntries) =>
    [...e.values()].some((x) => x.until === end && (x.roles ?? []).join(',') === (roles ?? []).join(','));
  const all = live.map((_, i) => i);
  const candidates =
    holder >= 0
      ? [holder]
      : [
          ...all.filter((i) => sameGroup(live[i] ?? new Map())),
          ...all.filter((i) => !sameGroup(live[i] ?? new Map())),
        ];
  for (const i of candidates) {
    const e = live[i] ?? new Map<string, DenyEntry>();
    const had = e.get(key)?.until ?? 0;
    if (had >= end) return planned();
    const next = new Map(e).set(key, { runId, ...(roles ? { roles } : {}), until: end });
    const content = renderDenyList(next, o);
    if (policySize(content) <= SCP_MAX_CHARS) {
      writes.set(i, content);
      return planned();
    }
  }
  const held = live.reduce((n, e) => n + e.size, 0);
  throw new DenyListError(
    'Full',
    `the deny list is full: ${contents.length} polic${contents.length === 1 ? 'y holds' : 'ies hold'} ${held} revoked run${held === 1 ? '' : 's'} and none has room for ${runId}`,
  );
}

/** Whether `content` holds the request's entry until at least its bucket end. */
export function denies(content: string, request: DenyRequest): boolean {
  const roles = request.roles?.length ? [...request.roles].sort() : undefined;
  const e = parseDenyList(content).get(entryKey(request.runId, roles));
  return (e?.until ?? 0) >= bucketEnd(request.until);
}
