// The organization's resource-based delegation policy (PutResourcePolicy, DescribeResourcePolicy,
// DeleteResourcePolicy): the management account lets member accounts manage Organizations policies.
// Written by the management account only; read by it and by any member it delegates to. Which calls
// it opens to a member is decided in call.ts (operations marked `delegable`), together with the
// caller's own identity policies, as AWS does for a cross-account resource policy.
import { orgResourcePolicyId } from '../../core/ids.js';
import { JsonError, type JsonObject, type JsonOperation, jsonError } from '../../core/json/index.js';
import { parsePolicy } from '../../core/policy/index.js';
import type { AwsOrganizationRecord } from '../../store/records/iam.js';
import type { Caller } from '../caller/caller.js';
import { type OrgDeps, orgCall } from './call.js';
import { withContentErrors } from './policies.js';
import { operation } from './reads.js';
import { mergeTags, readTags } from './writes.js';

/** botocore: ResourcePolicyContent is 1–40,000 characters. */
const CONTENT_MAX = 40_000;

const resourcePolicyArn = (org: AwsOrganizationRecord, id: string): string =>
  `arn:aws:organizations::${org.managementAccountId}:resourcepolicy/${org.id}/${id}`;

function shape(org: AwsOrganizationRecord): JsonObject {
  const rp = org.resourcePolicy;
  if (!rp) throw new JsonError('ResourcePolicyNotFoundException');
  return {
    ResourcePolicy: {
      ResourcePolicySummary: { Id: rp.id, Arn: resourcePolicyArn(org, rp.id) },
      Content: rp.content,
    },
  };
}

function checkContent(content: string): void {
  withContentErrors(() => {
    const p = parsePolicy(content, 'resource', { maxSize: CONTENT_MAX });
    if (p.statements.some((s) => s.notAction || s.action?.some((a) => !/^organizations:/i.test(a))))
      throw jsonError('delegationPolicyNotOrganizations');
  });
}

export function resourcePolicyActions(deps: OrgDeps): JsonOperation<Caller>[] {
  return [
    operation(
      'PutResourcePolicy',
      (r) => ({ content: r.str('Content', { required: true, min: 1, max: 1_000_000 }), tags: readTags(r) }),
      (input, ctx) =>
        orgCall(deps, ctx, { access: 'management', resources: () => ['*'], write: true }, async (tx, org) => {
          checkContent(input.content);
          const current = org.resourcePolicy;
          const tags = input.tags ? mergeTags(current?.tags ?? [], input.tags) : current?.tags;
          const next: AwsOrganizationRecord = {
            ...org,
            resourcePolicy: {
              id: current?.id ?? orgResourcePolicyId(deps.random),
              content: input.content,
              ...(tags?.length ? { tags } : {}),
            },
          };
          await tx.update('awsOrganization', next);
          return shape(next);
        }),
    ),
    operation(
      'DescribeResourcePolicy',
      () => ({}),
      (_input, ctx) =>
        orgCall(
          deps,
          ctx,
          { access: 'management', delegable: true, resources: () => ['*'] },
          async (_tx, org) => shape(org),
        ),
    ),
    operation(
      'DeleteResourcePolicy',
      () => ({}),
      (_input, ctx) =>
        orgCall(deps, ctx, { access: 'management', resources: () => ['*'], write: true }, async (tx, org) => {
          if (!org.resourcePolicy) throw new JsonError('ResourcePolicyNotFoundException');
          const { resourcePolicy: _gone, ...rest } = org;
          await tx.update('awsOrganization', rest);
          return {};
        }),
    ),
  ];
}
