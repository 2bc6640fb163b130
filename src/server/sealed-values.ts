// Before a command writes to a store directly (`gatepass apply`), prove that the master key it has
// opens the store's sealed values: the cloud's sealing keys and the issuer's signing keys. Writing
// under the wrong key (or a freshly generated one) would leave entities and credentials nobody can
// use, so a mismatch stops the command before its first write.
import { opensSealingKey } from '../cloud/sessions/keys.js';
import { openSigningKeyPem } from '../issuer/keygen.js';
import type { Store } from '../store/types.js';

export type SealedCheck =
  /** The store holds no sealed value yet: any master key will do (the first one seals). */
  | 'empty'
  /** The master key opens every sealed value. */
  | 'opens'
  /** Some sealed value does not open with this master key. */
  | 'mismatch';

export async function checkSealedValues(store: Store, masterKey: Uint8Array): Promise<SealedCheck> {
  const sealing = await store.list('sealingKey');
  const signing = await store.list('signingKey');
  if (sealing.length === 0 && signing.length === 0) return 'empty';
  for (const record of sealing) if (!opensSealingKey(masterKey, record)) return 'mismatch';
  for (const record of signing) {
    try {
      openSigningKeyPem(record.id, record.privateKeyEnc, masterKey);
    } catch {
      return 'mismatch';
    }
  }
  return 'opens';
}

/** Whether the store holds any sealed value (then only its own master key may write to it). */
export async function holdsSealedValues(store: Store): Promise<boolean> {
  return (await store.count('sealingKey')) > 0 || (await store.count('signingKey')) > 0;
}
