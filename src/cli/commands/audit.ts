// `gatepass audit`: query the audit log by run, workspace, role, session, request, action, decision
// and time, as a table or JSON lines; from a running server (admin token) or a data directory.
import type { Command } from 'commander';
import { AuditFilterError, type AuditFilters, auditQuery } from '../../cloud/explain/audit-query.js';
import type { AuditEvent } from '../../store/records/audit.js';
import { indexKey } from '../../store/schema.js';
import type { Store } from '../../store/types.js';
import {
  type ClientFlags,
  createClient,
  enc,
  itemsOf,
  outputOf,
  withClientOptions,
  workspaceId,
} from '../lib/issuer-client.js';
import { UsageError } from '../lib/output.js';
import type { CommandModule } from './index.js';
import { isLocal, type LocalFlags, withLocalOptions, withLocalStore } from './local-store.js';

type AuditFlags = ClientFlags & LocalFlags & AuditFilters & { json?: boolean };

const FILTER_HELP: readonly [keyof AuditFilters, string][] = [
  ['run', 'run id (run-…)'],
  ['workspace', 'ORG/WORKSPACE or a ws-… id'],
  ['role', 'role ARN'],
  ['session', 'session id of the calling session'],
  ['request', 'request id'],
  ['action', 'e.g. sts:AssumeRoleWithWebIdentity or iam:UpdateAssumeRolePolicy'],
  ['decision', 'allow, deny, error or info'],
  ['since', 'ISO 8601 time, epoch ms, or an age such as 15m, 2h, 7d'],
  ['until', 'ISO 8601 time, epoch ms, or an age'],
  ['after', 'only events after this sequence number (paging)'],
  ['limit', 'at most this many events, the most recent unless --after (default 100, max 1000)'],
];

/** `org/name` → ws-… through the store (local mode). */
async function localWorkspace(store: Store, ref: string): Promise<string> {
  if (ref.startsWith('ws-')) return ref;
  const slash = ref.indexOf('/');
  const org =
    slash > 0 ? await store.getBy('organization', 'name', ref.slice(0, slash).toLowerCase()) : undefined;
  const ws = org
    ? await store.getBy('workspace', 'orgName', indexKey(org.id, ref.slice(slash + 1).toLowerCase()))
    : undefined;
  if (!ws) throw new UsageError(`no workspace ${ref}`);
  return ws.id;
}

export function auditRow(e: AuditEvent): Record<string, unknown> {
  return {
    time: new Date(e.time).toISOString(),
    request: e.requestId,
    action: e.action,
    decision: e.decision,
    reason: e.reasonCode ?? '',
    role: e.roleArn ?? '',
    who: e.sub ?? e.caller ?? '',
    run: e.runId ?? '',
    target: e.resource ?? '',
  };
}

export const auditCommand: CommandModule = {
  register(program: Command) {
    const cmd = program
      .command('audit')
      .description(
        'Query the audit log (issuances, denials, revocations, IAM changes): a table, or JSON lines with --json.',
      );
    for (const [name, help] of FILTER_HELP) cmd.option(`--${name} <value>`, help);
    cmd.option('--json', 'one JSON event per line');
    withLocalOptions(withClientOptions(cmd)).action(async (flags: AuditFlags, c: Command) => {
      const out = outputOf(c);
      const filters: AuditFilters = {};
      for (const [name] of FILTER_HELP) if (flags[name] !== undefined) filters[name] = flags[name];
      let events: AuditEvent[];
      if (isLocal(flags)) {
        events = await withLocalStore(flags, async ({ store }) => {
          if (filters.workspace !== undefined)
            filters.workspace = await localWorkspace(store, filters.workspace);
          try {
            return await store.queryAudit(auditQuery(filters, Date.now()));
          } catch (err) {
            if (err instanceof AuditFilterError) throw new UsageError(`--${err.field}: ${err.reason}`);
            throw err;
          }
        });
      } else {
        const client = createClient(flags);
        if (filters.workspace !== undefined) filters.workspace = await workspaceId(client, filters.workspace);
        // Checked here too, so a bad filter is a usage error before any request.
        try {
          auditQuery(filters, Date.now());
        } catch (err) {
          if (err instanceof AuditFilterError) throw new UsageError(`--${err.field}: ${err.reason}`);
          throw err;
        }
        const qs = Object.entries(filters)
          .map(([k, v]) => `${k}=${enc(String(v))}`)
          .join('&');
        events = itemsOf(
          await client.call('GET', `/api/v1/audit${qs ? `?${qs}` : ''}`),
        ) as unknown as AuditEvent[];
      }
      if (flags.json) for (const e of events) out.json(e);
      else if (events.length === 0) out.line('no matching events');
      else
        out.table(events.map(auditRow), [
          'time',
          'request',
          'action',
          'decision',
          'reason',
          'role',
          'who',
          'run',
          // What a management write changed; left out when no event shown has one.
          ...(events.some((e) => e.resource !== undefined) ? ['target'] : []),
        ]);
    });
  },
};
