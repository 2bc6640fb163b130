// `gatepass explain`: a request id's audit events with the decision trace the STS recorded when it
// decided (not recomputed: policies may have changed since), or an encoded authorization message
// opened with the node's sealing keys. Hints that need the current IAM state (which other role
// would allow this token) are computed now and say so.

import { evaluate } from '../../core/policy/index.js';
import { isStoredTrace, type StoredTrace, storedTrace } from '../../core/policy/stored-trace.js';
import type { AuditEvent } from '../../store/records/audit.js';
import type { Store } from '../../store/types.js';
import type { Authorizer } from '../authz/authorizer.js';
import { providerPrefix } from '../sts/web-identity.js';
import { hintsWithStore, trustWarnings } from './simulate.js';
import { tokenHints } from './token-failure.js';

const isRecord = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);

export interface ExplainedEvent {
  event: AuditEvent;
  trace?: StoredTrace;
  hints: string[];
  /** Set when the trace was not recorded but re-evaluated now (allowed requests keep no trace). */
  recomputed?: string;
  /** Lint errors of a trust policy that allowed: others' tokens would get in too. */
  warnings?: string[];
}

export interface RequestExplanation {
  requestId: string;
  events: ExplainedEvent[];
}

/** The event without its trace (shown separately), so nothing is printed twice. */
function withoutTrace(e: AuditEvent): AuditEvent {
  if (!e.detail || !('trace' in e.detail)) return e;
  const { trace: _t, ...detail } = e.detail;
  return { ...e, detail };
}

export async function explainRequest(
  store: Store,
  authorizer: Authorizer,
  requestId: string,
): Promise<RequestExplanation | undefined> {
  const events = await store.queryAudit({ requestId, limit: 100 });
  if (events.length === 0) return undefined;
  const out: ExplainedEvent[] = [];
  for (const event of events) {
    const trace = event.detail?.trace;
    if (isStoredTrace(trace)) {
      out.push({ event: withoutTrace(event), trace, hints: await hintsWithStore(store, authorizer, trace) });
    } else if (event.decision === 'deny' && isRecord(event.detail?.unverifiedClaims)) {
      const removedKid = event.detail?.removedKid;
      const failure = {
        code: event.reasonCode ?? '',
        message: String(event.detail?.message ?? ''),
        ...(typeof removedKid === 'string' ? { detail: { removedKid } } : {}),
      };
      out.push({
        event,
        hints: await tokenHints(store, failure, event.detail.unverifiedClaims, event.roleArn ?? ''),
      });
    } else if (event.decision === 'allow' && event.action === 'sts:AssumeRoleWithWebIdentity') {
      out.push({ event, hints: [], ...(await reEvaluated(store, authorizer, event)) });
    } else out.push({ event, hints: [] });
  }
  return { requestId, events: out };
}

/**
 * An allowed web identity request, re-evaluated against the role's current trust policy with the
 * recorded sub and aud (the other claims were not recorded): which statement lets this token in.
 */
async function reEvaluated(
  store: Store,
  authorizer: Authorizer,
  e: AuditEvent,
): Promise<Pick<ExplainedEvent, 'trace' | 'recomputed' | 'warnings'>> {
  const role = e.roleArn ? await store.getBy('role', 'arn', e.roleArn) : undefined;
  if (!role || e.sub === undefined) return {};
  const providers = await store.list('oidcProvider', { index: { name: 'account', value: role.accountId } });
  const trust = authorizer.policy(role.trustPolicy, 'trust', `trust policy of role${role.path}${role.name}`);
  for (const p of providers) {
    const prefix = providerPrefix(p.url);
    const decision = evaluate(
      {
        action: e.action,
        resource: role.arn,
        principal: { type: 'Federated', ids: [p.id] },
        context: { [`${prefix}:sub`]: e.sub, ...(e.aud !== undefined ? { [`${prefix}:aud`]: e.aud } : {}) },
      },
      { resource: trust, resourceAccount: role.accountId },
    );
    if (decision.effect !== 'Allow') continue;
    const warnings = await trustWarnings(store, role.arn);
    return {
      trace: storedTrace(decision),
      recomputed: 're-evaluated now against the current trust policy with the recorded sub and aud',
      ...(warnings.length > 0 ? { warnings } : {}),
    };
  }
  return { recomputed: 'the current trust policy no longer allows the recorded sub and aud' };
}

/** An opened authorization message as a trace, when it carries one (STS denials do). */
export function messageTrace(message: Record<string, unknown>): StoredTrace | undefined {
  const { action, resource, layers, reason } = message;
  if (typeof action !== 'string' || typeof resource !== 'string' || !Array.isArray(layers)) return undefined;
  const explicit = message.explicitDeny === true || message.decision === 'ExplicitDeny';
  const principal = typeof message.principal === 'string' ? message.principal : undefined;
  const trace = {
    effect: message.allowed === true ? 'Allow' : explicit ? 'ExplicitDeny' : 'ImplicitDeny',
    layer: typeof message.layer === 'string' ? message.layer : null,
    reason: typeof reason === 'string' ? reason : 'unknown',
    action,
    resource,
    principal: {
      type: action === 'sts:AssumeRoleWithWebIdentity' ? 'Federated' : 'AWS',
      ...(principal ? { id: principal } : {}),
    },
    layers,
  };
  return isStoredTrace(trace) ? trace : undefined;
}

export interface MessageExplanation {
  message: Record<string, unknown>;
  trace?: StoredTrace;
  hints: string[];
}

export async function explainMessage(
  store: Store,
  authorizer: Authorizer,
  message: Record<string, unknown>,
): Promise<MessageExplanation> {
  const trace = messageTrace(message);
  if (!trace) return { message, hints: [] };
  const { layers: _l, ...rest } = message;
  return { message: rest, trace, hints: await hintsWithStore(store, authorizer, trace) };
}
