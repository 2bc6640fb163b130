// `gatepass revoke session|run|role`: end live STS sessions now, without waiting for their expiry.
// Against a running node (--server, the admin token) through POST /api/v1/revocations, or written
// straight to the store named by --data-dir/--database-url. Either way the revocation is stored (so
// it survives restarts) and audited; every running node applies it from the store's change feed
// within about a second. A role revocation ends the sessions issued before a point in time (default
// now), like AWS's "revoke active sessions".
import type { Command } from 'commander';
import {
  describeRevocation,
  type OperatorRevocation,
  type OperatorRevokeInput,
  operatorRevocation,
  RevokeInputError,
  revocationEvent,
} from '../../cloud/sessions/operator-revoke.js';
import { type ClientFlags, createClient, field, outputOf, withClientOptions } from '../lib/issuer-client.js';
import { UsageError } from '../lib/output.js';
import type { CommandModule } from './index.js';
import { isLocal, type LocalFlags, withLocalOptions, withLocalStore } from './local-store.js';

type RevokeFlags = LocalFlags &
  ClientFlags & { reason?: string; before?: string; issuer?: string; phase?: string };

/** Checked before any request or store is opened: a usage error names the flag. */
function checked(input: OperatorRevokeInput, now: number): OperatorRevocation {
  try {
    return operatorRevocation(input, now);
  } catch (err) {
    if (!(err instanceof RevokeInputError)) throw err;
    const name =
      err.field === 'scope' || err.field === 'subject' ? input.scope.slice(0, 32) : `--${err.field}`;
    throw new UsageError(
      err.field === 'scope' ? `scope must be session, run or role, not ${name}` : `${name}: ${err.reason}`,
    );
  }
}

export const revokeCommand: CommandModule = {
  register(program: Command) {
    const cmd = program
      .command('revoke')
      .description(
        'Revoke STS sessions at once: one session (ASIA… key id or session id), every session of a run (chained ones included), or the sessions of a role issued before now. Asks the running node (admin token), or writes to the store with --data-dir/--database-url.',
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
    withLocalOptions(withClientOptions(cmd)).action(
      async (scope: string, subject: string, flags: RevokeFlags, c: Command) => {
        const out = outputOf(c);
        const input: OperatorRevokeInput = {
          scope,
          subject,
          ...(flags.before !== undefined ? { before: flags.before } : {}),
          ...(flags.issuer !== undefined ? { issuer: flags.issuer } : {}),
          ...(flags.phase !== undefined ? { phase: flags.phase } : {}),
          ...(flags.reason !== undefined ? { reason: flags.reason } : {}),
        };
        const revocation = checked(input, Date.now());
        if (isLocal(flags)) {
          await withLocalStore(flags, async ({ store }) => {
            await store.transaction(async (tx) => {
              await tx.put('revocation', revocation.record);
              await tx.appendAudit([revocationEvent(revocation, `revoke-${revocation.record.createdAt}`)]);
            });
          });
          out.line(`${describeRevocation(revocation)}; running nodes apply it within a second`);
          return;
        }
        const client = createClient(flags);
        const reply = await client.call('POST', '/api/v1/revocations', input);
        out.line(`${String(field(reply, 'message'))}; every node applies it within a second`);
        out.line(`request id ${String(field(reply, 'requestId'))}`);
      },
    );
  },
};
