// First start of the cloud side: an account (the hub) and, in every new account (and any account
// without users), a bootstrap administrator whose access key is written once to an AWS credentials
// file (0600), the only place its secret ever exists. Users a setup file asks an access key for get
// theirs the same way.
import { chmodSync, writeFileSync } from 'node:fs';
import { accountId as newAccountId } from '../../core/ids.js';
import { indexKey } from '../../store/schema.js';
import type { Store } from '../../store/types.js';
import type { IamDeps } from '../iam/common.js';
import { createAccessKey, type KeyDeps, newUser } from '../iam/users.js';

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
  /**
   * Accounts created just now (by a setup file): each gets its administrator even when the file
   * gave it users. Other accounts get one only while they have no users at all.
   */
  newAccounts?: readonly string[];
}

/** Appends profiles to an AWS credentials file, 0600 (an existing file is tightened too). */
function appendProfiles(file: string, sections: readonly string[]): void {
  writeFileSync(file, `${sections.join('\n')}\n`, { mode: 0o600, flag: 'a' });
  // `mode` applies only when the file is created; an existing file holding secrets is tightened too.
  chmodSync(file, 0o600);
}

const profileSection = (profile: string, id: string, secret: string): string =>
  `[${profile}]\naws_access_key_id = ${id}\naws_secret_access_key = ${secret}\n`;

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
    const fresh = new Set(options.newAccounts ?? []);
    for (const account of accounts) {
      const users = await tx.count('user', { index: { name: 'account', value: account.id } });
      const wanted =
        users === 0 ||
        (fresh.has(account.id) && !(await tx.getBy('user', 'accountName', indexKey(account.id, ADMIN_USER))));
      if (!wanted) continue;
      const user = { ...newUser(deps, account.id, ADMIN_USER), attachedPolicies: [ADMIN_POLICY] };
      await tx.insert('user', user);
      const { record, secret } = await createAccessKey(deps, tx, user);
      const profile = `gatepass-${account.name}`;
      created.push({ profile, accountId: account.id, accessKeyId: record.id });
      sections.push(profileSection(profile, record.id, secret));
    }
  });
  if (sections.length > 0) {
    appendProfiles(options.credentialsFile, sections);
    deps.changed();
  }
  return { accounts: (await store.list('account')).map((a) => a.id), created };
}

export interface UserKeyRequest {
  accountId: string;
  accountName: string;
  userName: string;
}

/**
 * An access key for each named user that has none yet, its secret appended to the credentials file
 * (profile `gatepass-<account>-<user>`) and nowhere else. A user that already has a key is left
 * alone, so applying the same setup file again creates nothing.
 */
export async function issueUserAccessKeys(
  store: Store,
  deps: KeyDeps & Pick<IamDeps, 'changed'>,
  users: readonly UserKeyRequest[],
  credentialsFile: string,
): Promise<BootstrapResult['created']> {
  const created: BootstrapResult['created'] = [];
  const sections: string[] = [];
  await store.transaction(async (tx) => {
    for (const u of users) {
      const user = await tx.getBy('user', 'accountName', indexKey(u.accountId, u.userName.toLowerCase()));
      if (!user || (await tx.count('accessKey', { index: { name: 'user', value: user.id } })) > 0) continue;
      const { record, secret } = await createAccessKey(deps, tx, user);
      const profile = `gatepass-${u.accountName}-${u.userName}`;
      created.push({ profile, accountId: u.accountId, accessKeyId: record.id });
      sections.push(profileSection(profile, record.id, secret));
    }
  });
  if (sections.length > 0) {
    appendProfiles(credentialsFile, sections);
    deps.changed();
  }
  return created;
}
