// What the audit tests share: a request's audit events by its request id, a node whose audit writes
// fail for a while, and an IAM call signed with SigV4 over real HTTP.
import assert from 'node:assert/strict';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AuditEvent } from '../../src/store/records/audit.js';
import { httpRequest, type Reply } from '../server/helpers.js';
import type { CloudFixture, Keys } from './cloud.js';

/** The audit events of the request that got `reply`, once everything recorded so far is committed. */
export async function eventsOf(fx: CloudFixture, reply: Reply): Promise<AuditEvent[]> {
  const requestId = String(reply.headers['x-amzn-requestid']);
  await fx.cloud.flushAudit();
  return fx.app.store.queryAudit({ requestId });
}

/** The one audit event of the request that got `reply` (fails on none or several). */
export async function onlyEventOf(fx: CloudFixture, reply: Reply): Promise<AuditEvent> {
  const events = await eventsOf(fx, reply);
  assert.equal(events.length, 1, JSON.stringify(events));
  return events[0] as AuditEvent;
}

/**
 * Runs `fn` while every audit write of the node fails, as on a full disk (the store's own
 * appendAudit replaced on the instance, so the audit log's group commit is what fails).
 */
export async function withFailingAuditWrites<T>(fx: CloudFixture, fn: () => Promise<T>): Promise<T> {
  const store = fx.app.store as { appendAudit: unknown };
  const own = Object.hasOwn(store, 'appendAudit');
  const saved = store.appendAudit;
  store.appendAudit = async () => Promise.reject(new Error('disk full'));
  try {
    return await fn();
  } finally {
    await fx.cloud.flushAudit();
    if (own) store.appendAudit = saved;
    else delete store.appendAudit;
  }
}

/** An IAM Query call signed by `keys`, with its request id. */
export async function signedIamCall(
  fx: CloudFixture,
  keys: Keys,
  params: Record<string, string>,
): Promise<Reply & { requestId: string }> {
  const target = new URL(fx.url);
  const body = new URLSearchParams({ Version: '2010-05-08', ...params }).toString();
  const signer = new SignatureV4({ credentials: keys, region: 'us-east-1', service: 'iam', sha256: Sha256 });
  const signed = await signer.sign(
    new HttpRequest({
      method: 'POST',
      protocol: 'http:',
      hostname: target.hostname,
      port: Number(target.port),
      path: '/',
      headers: { host: target.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body,
    }),
  );
  const r = await httpRequest(`${fx.url}/`, {
    method: 'POST',
    headers: signed.headers as Record<string, string>,
    body,
  });
  return { ...r, requestId: String(r.headers['x-amzn-requestid'] ?? '') };
}

/** The node's audit writes wait until `release` is called; `reached` resolves when one is waiting. */
export function holdAuditWrites(fx: CloudFixture): {
  reached: Promise<void>;
  release(): void;
  restore(): void;
} {
  const store = fx.app.store as { appendAudit: (events: readonly AuditEvent[]) => Promise<void> };
  const original = store.appendAudit;
  let release = (): void => undefined;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  let reach = (): void => undefined;
  const reached = new Promise<void>((r) => {
    reach = r;
  });
  store.appendAudit = async (batch) => {
    reach();
    await gate;
    return original.call(fx.app.store, batch);
  };
  return {
    reached,
    release,
    restore: () => {
      if (Object.hasOwn(store, 'appendAudit')) delete (store as { appendAudit?: unknown }).appendAudit;
    },
  };
}
