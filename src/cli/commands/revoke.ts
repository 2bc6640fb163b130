// `gatepass revoke session|run|role`: end live STS sessions now, without waiting for their expiry.
// Writes the revocation to the store named by --data-dir/--database-url or the configuration (so it
// survives restarts); every running node applies it from the store's change feed within about a
// second. A role revocation ends the sessions issued before a point in time (default now), like
// AWS's "revoke active sessions".
import type { Command } from 'commander';
import { revocationRecord, runRevocationRecord } from '../../cloud/sessions/revocations.js';
import { ANY_ISSUER, type RevocationScope } from '../../store/records/sessions.js';
import { UsageError } from '../output.js';
import type { CommandModule } from './index.js';
import { outputOf } from './issuer-client.js';
import { type LocalFlags, withLocalOptions, withLocalStore } from './local-store.js';

const WEEK_MS = 7 * 86_400_000;

type CliScope = Exclude<RevocationScope, 'phase'>;

const SUBJECTS: Record<CliScope, { re: RegExp; what: string }> = {
  session: {
    re: /^(ASIA[A-Z2-7]{16}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/,
    what: 'an ASIA… access key id or a session id',
  },
  run: { re: /^[\w.:-]{1,128}$/, what: 'a run id such as run-…' },
  role: { re: /^arn:aws:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, what: 'a role ARN' },
};

type RevokeFlags = LocalFlags & { reason?: string; before?: string; issuer?: string; phase?: string };

/** An issuer URL as tokens carry it in `iss`: https, no trailing slash, no spaces. */
function parseIssuer(text: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'https:' || /\s/.test(text) || text.endsWith('/') || text.length > 2048)
    throw new UsageError("--issuer: expected the https URL of the issuer, as in its tokens' iss claim");
  return text;
}

function parseTime(text: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) throw new UsageError(`--before: not a time: ${text.slice(0, 64)}`);
  return ms;
}

export const revokeCommand: CommandModule = {
  register(program: Command) {
    const cmd = program
      .command('revoke')
      .description(
        'Revoke STS sessions at once: one session (ASIA… key id or session id), every session of a run (chained ones included), or the sessions of a role issued before now.',
      )
      .argument('<scope>', 'session, run or role')
      .argument('<subject>', 'access key id or session id, run id, or role ARN')
      .option(
        '--before <time>',
        'role only: revoke sessions issued before this ISO 8601 time or epoch ms (default now)',
      )
      .option(
        '--issuer <url>',
        "run only: the issuer (its tokens' iss) that minted the run; without it, the run id under every issuer",
      )
      .option('--phase <phase>', 'run only: revoke this phase of the run (plan or apply), not the whole run')
      .option('--reason <text>', 'recorded with the revocation and in the audit log', 'revoked by operator');
    withLocalOptions(cmd).action(async (scope: string, subject: string, flags: RevokeFlags, c: Command) => {
      const out = outputOf(c);
      if (scope !== 'session' && scope !== 'run' && scope !== 'role') {
        throw new UsageError(`scope must be session, run or role, not ${scope.slice(0, 32)}`);
      }
      const rule = SUBJECTS[scope];
      if (!rule.re.test(subject)) throw new UsageError(`${scope}: expected ${rule.what}`);
      if (flags.before !== undefined && scope !== 'role')
        throw new UsageError('--before applies to role only');
      if ((flags.issuer !== undefined || flags.phase !== undefined) && scope !== 'run')
        throw new UsageError('--issuer and --phase apply to run only');
      if (flags.phase !== undefined && flags.phase !== 'plan' && flags.phase !== 'apply')
        throw new UsageError('--phase: expected plan or apply');
      const issuer = flags.issuer !== undefined ? parseIssuer(flags.issuer) : ANY_ISSUER;
      const now = Date.now();
      const before = flags.before !== undefined ? parseTime(flags.before) : undefined;
      const reason = (flags.reason ?? 'revoked by operator').slice(0, 256);
      // A run's tokens may live up to a week (the longest phase deadline): the revocation outlives them.
      const record =
        scope === 'run'
          ? runRevocationRecord(
              { issuer, runId: subject, ...(flags.phase !== undefined ? { phase: flags.phase } : {}) },
              now,
              reason,
              now + WEEK_MS,
            )
          : revocationRecord(scope, subject, now, reason, before);
      await withLocalStore(flags, async ({ store }) => {
        await store.put('revocation', record);
        await store.appendAudit([
          {
            time: now,
            requestId: `revoke-${now}`,
            action: `sts:Revoke${scope === 'session' ? 'Session' : scope === 'run' ? 'Run' : 'RoleSessions'}`,
            decision: 'info',
            ...(scope === 'run' ? { runId: subject } : {}),
            ...(scope === 'role' ? { roleArn: subject } : {}),
            ...(scope === 'session'
              ? subject.startsWith('ASIA')
                ? { accessKeyId: subject }
                : { sessionId: subject }
              : {}),
            detail: {
              reason,
              ...(scope === 'run'
                ? { issuer, ...(flags.phase !== undefined ? { phase: flags.phase } : {}) }
                : {}),
              ...(record.issuedBefore !== undefined ? { issuedBefore: record.issuedBefore } : {}),
            },
          },
        ]);
      });
      const until =
        record.issuedBefore !== undefined
          ? ` (sessions issued before ${new Date(record.issuedBefore).toISOString()})`
          : '';
      const which =
        scope === 'run'
          ? `${flags.phase !== undefined ? ` (${flags.phase} phase)` : ''}${issuer === ANY_ISSUER ? ' under every issuer' : ` of issuer ${issuer}`}`
          : '';
      out.line(`revoked ${scope} ${subject}${which}${until}; running nodes apply it within a second`);
    });
  },
};
