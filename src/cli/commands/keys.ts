// `gatepass keys list|rotate|trim|revoke`: the issuer's signing keyring.
import type { Command } from 'commander';
import {
  type ClientFlags,
  createClient,
  field,
  itemsOf,
  list,
  outputOf,
  show,
  withClientOptions,
} from '../lib/issuer-client.js';
import { UsageError } from '../lib/output.js';
import type { CommandModule } from './index.js';

type Flags = ClientFlags & { json?: boolean; immediate?: boolean; force?: boolean };

const iso = (ms: unknown): string => (typeof ms === 'number' && ms > 0 ? new Date(ms).toISOString() : '');

export const keysCommand: CommandModule = {
  register(program: Command) {
    const keys = program.command('keys').description("Manage the issuer's signing keys.");
    withClientOptions(keys.command('list').description('List signing keys and their states.'))
      .option('--json', 'print JSON lines')
      .action(async (flags: Flags, cmd: Command) => {
        const rows = itemsOf(await createClient(flags).call('GET', '/api/v1/keys'));
        const shown = flags.json
          ? rows
          : rows.map((k) => ({
              ...k,
              activateAt: iso(k.activateAt),
              lastTokenExpiresAt: iso(k.lastTokenExpiresAt),
            }));
        list(outputOf(cmd), shown, ['kid', 'alg', 'state', 'activateAt', 'lastTokenExpiresAt'], flags.json);
      });
    withClientOptions(
      keys.command('rotate').description('Publish a new key now; it signs after the publish-ahead period.'),
    )
      .option(
        '--immediate',
        'sign with the new key at once (suspected leak; verifiers with a cached JWKS may fail)',
      )
      .option('--json', 'print JSON')
      .action(async (flags: Flags, cmd: Command) => {
        const key = await createClient(flags).call('POST', '/api/v1/keys/rotate', {
          immediate: flags.immediate ?? false,
        });
        const out = outputOf(cmd);
        if (flags.json) out.json(key);
        else
          out.success(
            `key ${String(field(key, 'kid'))} is ${String(field(key, 'state'))}, signing from ${iso(field(key, 'activateAt'))}`,
          );
      });
    withClientOptions(keys.command('trim').description('Remove retired keys whose tokens have all expired.'))
      .option('--force', 'remove every retired key now, even with valid tokens outstanding (after a leak)')
      .option('--json', 'print JSON')
      .action(async (flags: Flags, cmd: Command) => {
        const result = await createClient(flags).call('POST', '/api/v1/keys/trim', {
          force: flags.force ?? false,
        });
        const removed = (field(result, 'removed') as string[] | undefined) ?? [];
        if (flags.json) show(outputOf(cmd), result, true);
        else
          outputOf(cmd).success(removed.length === 0 ? 'nothing to trim' : `removed ${removed.join(', ')}`);
      });
    withClientOptions(
      keys
        .command('revoke')
        .description(
          'A leaked key, at once: remove it whatever its state; its tokens and the sessions minted from them are refused on every node within a second. A new key signs if it was the signer.',
        )
        .argument('<kid>', 'the key id (kid) to revoke, as `gatepass keys list` shows it')
        // A kid is base64url and one in 64 begins with '-': it is the argument, not an unknown option.
        .allowUnknownOption(),
    )
      .option('--json', 'print JSON')
      .action(async (kid: string, flags: Flags, cmd: Command) => {
        if (!/^[A-Za-z0-9_-]{43}$/.test(kid)) throw new UsageError('kid: expected a 43-character key id');
        const result = await createClient(flags).call('POST', `/api/v1/keys/${kid}/revoke`, {});
        const out = outputOf(cmd);
        if (flags.json) return out.json(result);
        const signer = field(result, 'signer');
        out.success(
          `key ${kid} is revoked${signer ? `; key ${String(field(signer, 'kid'))} signs from now` : ''}`,
        );
      });
  },
};
