// SCPs and RCPs through the API: create, update, delete, attach, detach, and enabling or disabling a
// policy type in the root. FullAWSAccess and RCPFullAWSAccess are AWS's: never edited or deleted;
// RCPFullAWSAccess is never detached; FullAWSAccess may be (the allow-list strategy), as long as
// every target keeps at least one SCP.

import { orgPolicyId } from '../../core/ids.js';
import {
  JsonError,
  type JsonObject,
  type JsonOperation,
  type JsonReader,
  jsonError,
} from '../../core/json/index.js';
import { type PolicyKind, PolicyValidationError, parsePolicy } from '../../core/policy/index.js';
import type { AwsOrganizationRecord, OrgPolicyRecord, OrgPolicyType } from '../../store/records/iam.js';
import { indexKey } from '../../store/schema.js';
import type { StoreOps } from '../../store/types.js';
import type { Caller } from '../caller/caller.js';
import { type OrgCtx, type OrgDeps, orgCall } from './call.js';
import {
  ALL_POLICY_TYPES,
  enabledTypes,
  FULL_ACCESS,
  findPolicy,
  findTarget,
  ID,
  organizationAccounts,
  POLICY_TYPES,
  policiesOn,
  policySummary,
  rootArn,
  rootShape,
  targetArn,
} from './model.js';
import { id, operation, policyResource } from './reads.js';
import { attachFullAccess, mergeTags, readTags } from './writes.js';

/** AWS's quota: at most five policies of a type attached to one root, OU or account. */
const ATTACHED_MAX = 5;
const NAME = { min: 1, max: 128 };
const DESCRIPTION = { max: 512 };

const kindOf = (type: OrgPolicyType): PolicyKind => (type === 'SERVICE_CONTROL_POLICY' ? 'scp' : 'rcp');

/** A supported type, or AWS's answer for the types this organization cannot use. */
function supported(type: (typeof ALL_POLICY_TYPES)[number]): OrgPolicyType {
  if (!(POLICY_TYPES as readonly string[]).includes(type))
    throw new JsonError('PolicyTypeNotAvailableForOrganizationException');
  return type as OrgPolicyType;
}

/** Validate content as the type's grammar and size limit (5,120 characters) demand. */
function checkContent(content: string, type: OrgPolicyType): void {
  withContentErrors(() => parsePolicy(content, kindOf(type)));
}

/** Run a policy validation; its failure becomes AWS's Organizations error (size or malformed). */
export function withContentErrors(validate: () => unknown): void {
  try {
    validate();
  } catch (err) {
    if (!(err instanceof PolicyValidationError)) throw err;
    if (err.code === 'LimitExceeded')
      throw new JsonError('ConstraintViolationException', undefined, 'POLICY_CONTENT_LIMIT_EXCEEDED');
    throw jsonError('policyDocumentMalformed', err.message.slice(0, 300));
  }
}

function customer(p: OrgPolicyRecord): OrgPolicyRecord {
  if (p.awsManaged) throw new JsonError('InvalidInputException', undefined, 'IMMUTABLE_POLICY');
  return p;
}

async function duplicateName(
  tx: StoreOps,
  type: OrgPolicyType,
  name: string,
  except?: string,
): Promise<void> {
  const other = await tx.getBy('orgPolicy', 'typeName', indexKey(type, name));
  if (other && other.id !== except) throw new JsonError('DuplicatePolicyException');
}

/** Every root, OU and account of the organization (what a newly enabled type is attached to). */
async function everything(tx: StoreOps, org: AwsOrganizationRecord): Promise<string[]> {
  const units = (await tx.list('organizationalUnit')).map((u) => u.id).filter((u) => u !== org.rootId);
  const accounts = (await organizationAccounts(tx, org)).map((a) => a.id);
  return [org.rootId, ...units, ...accounts];
}

/** AttachPolicy's and DetachPolicy's input. */
const attachmentInput = (r: JsonReader): { policyId: string; targetId: string } => ({
  policyId: id(r, 'PolicyId', ID.policy),
  targetId: id(r, 'TargetId', ID.target, 100),
});

export function policyActions(deps: OrgDeps): JsonOperation<Caller>[] {
  type OnPolicy<T> = (tx: StoreOps, org: AwsOrganizationRecord, policy: OrgPolicyRecord) => Promise<T>;
  /** A management-only write on a policy (and for attach and detach, a target), both resolved first. */
  const onPolicy = <T extends JsonObject>(
    ctx: OrgCtx,
    input: { policyId: string; targetId?: string; delegable?: boolean },
    fn: OnPolicy<T>,
  ): Promise<T> =>
    orgCall(
      deps,
      ctx,
      {
        access: 'management',
        ...(input.delegable ? { delegable: true } : {}),
        resources: async (org, tx) => [
          await policyResource(tx, org, input.policyId),
          ...(input.targetId !== undefined ? [targetArn(org, input.targetId)] : []),
        ],
        write: true,
      },
      async (tx, org) => {
        const policy = await findPolicy(tx, input.policyId);
        if (input.targetId !== undefined) await findTarget(tx, org, input.targetId);
        return fn(tx, org, policy);
      },
    );
  /** UpdatePolicy, DeletePolicy: on a policy that is not AWS managed. */
  /** `delegable`: a delegated policy administrator may call it too (the delegation policy allowing). */
  const onCustomerPolicy = <T extends JsonObject>(
    ctx: OrgCtx,
    policyId: string,
    delegable: boolean,
    fn: OnPolicy<T>,
  ) => onPolicy(ctx, { policyId, delegable }, (tx, org, p) => fn(tx, org, customer(p)));
  return [
    operation(
      'CreatePolicy',
      (r) => ({
        content: r.str('Content', { required: true, min: 1, max: 1_000_000 }),
        description: r.str('Description', { required: true, ...DESCRIPTION }),
        name: r.str('Name', { required: true, ...NAME }),
        type: r.enumeration('Type', ALL_POLICY_TYPES, true),
        tags: readTags(r),
      }),
      (input, ctx) =>
        orgCall(deps, ctx, { access: 'management', resources: () => ['*'], write: true }, async (tx, org) => {
          const type = supported(input.type);
          checkContent(input.content, type);
          if (input.tags) mergeTags([], input.tags);
          await duplicateName(tx, type, input.name);
          const p: OrgPolicyRecord = {
            id: orgPolicyId(deps.random),
            type,
            name: input.name,
            description: input.description,
            content: input.content,
            awsManaged: false,
            targets: [],
            createdAt: deps.clock.now(),
            ...(input.tags?.length ? { tags: input.tags } : {}),
          };
          await tx.insert('orgPolicy', p);
          return { Policy: { PolicySummary: policySummary(org, p), Content: p.content } };
        }),
    ),
    operation(
      'UpdatePolicy',
      (r) => ({
        policyId: id(r, 'PolicyId', ID.policy),
        name: r.str('Name', NAME),
        description: r.str('Description', DESCRIPTION),
        content: r.str('Content', { min: 1, max: 1_000_000 }),
      }),
      (input, ctx) =>
        onCustomerPolicy(ctx, input.policyId, true, async (tx, org, p) => {
          if (input.content !== undefined) checkContent(input.content, p.type);
          if (input.name !== undefined) await duplicateName(tx, p.type, input.name, p.id);
          const updated: OrgPolicyRecord = {
            ...p,
            ...(input.name !== undefined ? { name: input.name } : {}),
            ...(input.description !== undefined ? { description: input.description } : {}),
            ...(input.content !== undefined ? { content: input.content } : {}),
          };
          await tx.update('orgPolicy', updated);
          return { Policy: { PolicySummary: policySummary(org, updated), Content: updated.content } };
        }),
    ),
    operation(
      'DeletePolicy',
      (r) => ({ policyId: id(r, 'PolicyId', ID.policy) }),
      (input, ctx) =>
        onCustomerPolicy(ctx, input.policyId, false, async (tx, _org, p) => {
          if (p.targets.length > 0) throw new JsonError('PolicyInUseException');
          await tx.delete('orgPolicy', p.id);
          return {};
        }),
    ),
    operation('AttachPolicy', attachmentInput, (input, ctx) =>
      onPolicy(ctx, input, async (tx, org, p) => {
        if (!enabledTypes(org).includes(p.type)) throw new JsonError('PolicyTypeNotEnabledException');
        if (p.targets.includes(input.targetId)) throw new JsonError('DuplicatePolicyAttachmentException');
        const attached = await policiesOn(tx, p.type, input.targetId);
        if (attached.length >= ATTACHED_MAX)
          throw new JsonError(
            'ConstraintViolationException',
            undefined,
            'MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED',
          );
        await tx.update('orgPolicy', { ...p, targets: [...p.targets, input.targetId] });
        return {};
      }),
    ),
    operation('DetachPolicy', attachmentInput, (input, ctx) =>
      onPolicy(ctx, input, async (tx, _org, p) => {
        if (!p.targets.includes(input.targetId)) throw new JsonError('PolicyNotAttachedException');
        if (p.id === FULL_ACCESS.RESOURCE_CONTROL_POLICY.id)
          throw new JsonError('InvalidInputException', undefined, 'NON_DETACHABLE_POLICY');
        const others = (await policiesOn(tx, p.type, input.targetId)).filter((x) => x.id !== p.id);
        // Every root, OU and account keeps at least one SCP: an Allow is needed at every level.
        if (p.type === 'SERVICE_CONTROL_POLICY' && others.length === 0)
          throw new JsonError(
            'ConstraintViolationException',
            undefined,
            'MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED',
          );
        await tx.update('orgPolicy', { ...p, targets: p.targets.filter((t) => t !== input.targetId) });
        return {};
      }),
    ),
    rootOperation(deps, 'EnablePolicyType', async (tx, org, requested) => {
      const type = supported(requested);
      const enabled = enabledTypes(org);
      if (enabled.includes(type)) throw new JsonError('PolicyTypeAlreadyEnabledException');
      // AWS attaches the type's full-access policy to the root, every OU and every account.
      const only: AwsOrganizationRecord = { ...org, enabledPolicyTypes: [type] };
      for (const target of await everything(tx, org)) await attachFullAccess(tx, only, target);
      return [...enabled, type];
    }),
    rootOperation(deps, 'DisablePolicyType', async (tx, org, requested) => {
      const enabled = enabledTypes(org);
      const type = enabled.find((t) => t === requested);
      if (type === undefined) throw new JsonError('PolicyTypeNotEnabledException');
      // Disabling a type detaches every policy of that type from every entity.
      for (const p of await tx.list('orgPolicy', { index: { name: 'type', value: type } }))
        if (p.targets.length > 0) await tx.update('orgPolicy', { ...p, targets: [] });
      return enabled.filter((t) => t !== type);
    }),
  ];
}

/** EnablePolicyType / DisablePolicyType: `change` answers the root's new enabled types. */
function rootOperation(
  deps: OrgDeps,
  name: string,
  change: (
    tx: StoreOps,
    org: AwsOrganizationRecord,
    type: (typeof ALL_POLICY_TYPES)[number],
  ) => Promise<OrgPolicyType[]>,
): JsonOperation<Caller> {
  return operation(
    name,
    (r) => ({
      rootId: id(r, 'RootId', ID.root, 34),
      type: r.enumeration('PolicyType', ALL_POLICY_TYPES, true),
    }),
    (input, ctx) =>
      orgCall(
        deps,
        ctx,
        { access: 'management', resources: (org) => [rootArn(org)], write: true },
        async (tx, org) => {
          if (input.rootId !== org.rootId) throw new JsonError('RootNotFoundException');
          const updated = { ...org, enabledPolicyTypes: await change(tx, org, input.type) };
          await tx.update('awsOrganization', updated);
          return { Root: rootShape(updated, await tx.get('organizationalUnit', org.rootId)) };
        },
      ),
  );
}
