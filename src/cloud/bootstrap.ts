// First start of the cloud side: an account (the hub) and, in every account without users, a
// bootstrap administrator whose access key is written once to an AWS credentials file (0600), the
// only place its secret ever exists.
import { chmodSync, writeFileSync } from 'node:fs';
import { accountId as newAccountId } from '../core/ids.js';
import type { Store } from '../store/types.js';
import type { IamDeps } from './iam/common.js';
import { createAccessKey, type KeyDeps, newUser } from './iam/users.js';

export const ADMIN_USER = 'gatepass-admin';
const ADMIN_POLICY = 'arn:aws:iam::aws:policy/AdministratorAccess';

export interface BootstrapResult {
  accounts: string[];
  /** Profiles written this time: `gatepass-<account name>`. */
  created: { profile: string; accountId: string; accessKeyId: string }[];
}

export interface BootstrapOptions {
  /** AWS credentials file to append new administrator profiles to. */
  credentialsFile: string;
  /** Account to create when the store has none (random 12 digits when absent). */
  defaultAccountId?: string;
}

export async function bootstrapAccounts(
  store: Store,
  deps: KeyDeps & Pick<IamDeps, 'changed'>,
  options: BootstrapOptions,
): Promise<BootstrapResult> {
  const created: BootstrapResult['created'] = [];
  const sections: string[] = [];
  await store.transaction(async (tx) => {
    if ((await tx.count('account')) === 0) {
      const id = options.defaultAccountId ?? newAccountId(deps.random);
      await tx.insert('account', { id, name: 'hub', oidcGuardRail: true, createdAt: deps.clock.now() });
    }
    const accounts = await tx.list('account');
    for (const account of accounts) {
      if ((await tx.count('user', { index: { name: 'account', value: account.id } })) > 0) continue;
      const user = { ...newUser(deps, account.id, ADMIN_USER), attachedPolicies: [ADMIN_POLICY] };
      await tx.insert('user', user);
      const { record, secret } = await createAccessKey(deps, tx, user);
      const profile = `gatepass-${account.name}`;
      created.push({ profile, accountId: account.id, accessKeyId: record.id });
      sections.push(`[${profile}]\naws_access_key_id = ${record.id}\naws_secret_access_key = ${secret}\n`);
    }
  });
  if (sections.length > 0) {
    writeFileSync(options.credentialsFile, `${sections.join('\n')}\n`, { mode: 0o600, flag: 'a' });
    // `mode` applies only when the file is created; an existing file holding secrets is tightened too.
    chmodSync(options.credentialsFile, 0o600);
    deps.changed();
  }
  return { accounts: (await store.list('account')).map((a) => a.id), created };
}
