// SimulatePrincipalPolicy and SimulateCustomPolicy on gatepass's own engine, plus
// GetAccountAuthorizationDetails. Beyond AWS's simulator, sts:AssumeRole* on a role ARN of the
// account is evaluated with that role's trust policy as the resource policy, so trust can be tested
// before a run ever presents a token.
import { accountRootArn, parseArn } from '../../core/arn.js';
import {
  type ContextValue,
  type Decision,
  evaluate,
  type Policy,
  type PolicySet,
  type RequestPrincipal,
} from '../../core/policy/index.js';
import { defineAction, type QueryAction } from '../../core/query/dispatch.js';
import { AwsError } from '../../core/query/errors.js';
import type { FormReader } from '../../core/query/parse-form.js';
import type { ManagedPolicyRecord, RoleRecord, UserRecord } from '../../store/records/iam.js';
import type { StoreOps } from '../../store/types.js';
import { baseContext } from '../authz.js';
import type { Caller } from '../caller.js';
import {
  accountOf,
  authorize,
  type Ctx,
  encodeDocument,
  type IamDeps,
  paginate,
  readPage,
  requestMeta,
  tagsXml,
} from './common.js';
import { policyXml, type Usage, usageIn, versionXml } from './policies.js';
import { validateDocument } from './policy-document.js';
import { roleXml } from './roles.js';
import { userXml } from './users.js';

interface SimulationInput {
  actions: string[];
  resources: string[];
  policies: string[];
  boundaries: string[];
  resourcePolicy?: string;
  resourceOwner?: string;
  callerArn?: string;
  context: Record<string, ContextValue>;
  page: ReturnType<typeof readPage>;
}

const CONTEXT_TYPES =
  /^(string|stringList|numeric|numericList|boolean|booleanList|ip|ipList|binary|binaryList|date|dateList)$/;

function readSimulation(p: FormReader): SimulationInput {
  const actions = p.list('ActionNames', { required: true, min: 3, max: 128 }) ?? [];
  const resources = p.list('ResourceArns', { min: 1, max: 2048 }) ?? ['*'];
  const policies = p.list('PolicyInputList', { min: 1, max: 131072 }) ?? [];
  const boundaries = p.list('PermissionsBoundaryPolicyInputList', { min: 1, max: 131072 }) ?? [];
  const resourcePolicy = p.str('ResourcePolicy', { min: 1, max: 131072 });
  const resourceOwner = p.str('ResourceOwner', { min: 1, max: 2048 });
  const callerArn = p.str('CallerArn', { min: 1, max: 2048 });
  p.str('ResourceHandlingOption', { min: 1, max: 64 });
  const entries =
    p.structList('ContextEntries', {
      ContextKeyName: { required: true, min: 5, max: 256 },
      ContextKeyType: { required: true, pattern: { re: CONTEXT_TYPES, text: CONTEXT_TYPES.source } },
    }) ?? [];
  const context: Record<string, ContextValue> = {};
  entries.forEach((e, i) => {
    const values = p.list(`ContextEntries.member.${i + 1}.ContextKeyValues`) ?? [];
    if (e.ContextKeyName)
      context[e.ContextKeyName] = e.ContextKeyType?.endsWith('List') ? values : (values[0] ?? '');
  });
  return {
    actions,
    resources,
    policies,
    boundaries,
    ...(resourcePolicy !== undefined ? { resourcePolicy } : {}),
    ...(resourceOwner !== undefined ? { resourceOwner } : {}),
    ...(callerArn !== undefined ? { callerArn } : {}),
    context,
    page: readPage(p),
  };
}

function parseAll(texts: readonly string[], kind: 'identity' | 'boundary', label: string): Policy[] {
  return texts.map((t, i) => ({ ...validateDocument(t, kind), source: `${label} ${i + 1}` }));
}

const decisionName = (d: Decision): string =>
  d.effect === 'Allow' ? 'allowed' : d.effect === 'ExplicitDeny' ? 'explicitDeny' : 'implicitDeny';

function resultXml(action: string, resource: string, d: Decision) {
  const matched = d.layers.flatMap((l) =>
    l.statements
      .filter((s) => s.matched)
      .map((s) => ({
        SourcePolicyId: s.policy,
        SourcePolicyType:
          l.layer === 'identity'
            ? 'IAM Policy'
            : l.layer === 'boundary'
              ? 'PermissionsBoundaryPolicy'
              : l.layer === 'resource'
                ? 'Resource Policy'
                : l.layer.toUpperCase(),
      })),
  );
  const scp = d.layers.find((l) => l.layer === 'scp');
  const boundary = d.layers.find((l) => l.layer === 'boundary');
  return {
    EvalActionName: action,
    EvalResourceName: resource,
    EvalDecision: decisionName(d),
    MatchedStatements: matched,
    MissingContextValues: [],
    OrganizationsDecisionDetail: scp
      ? { AllowedByOrganizations: scp.outcome !== 'deny' && scp.outcome !== 'implicit' }
      : undefined,
    PermissionsBoundaryDecisionDetail: boundary
      ? { AllowedByPermissionsBoundary: boundary.outcome === 'allow' }
      : undefined,
  };
}

/** Trust policy of a role ARN in `account`, when the action is an sts:AssumeRole*. */
async function trustFor(tx: StoreOps, action: string, resource: string): Promise<Policy | undefined> {
  if (!/^sts:AssumeRole/i.test(action)) return undefined;
  const role = await tx.getBy('role', 'arn', resource);
  return role
    ? { ...validateDocument(role.trustPolicy, 'trust'), source: `trust policy of role/${role.name}` }
    : undefined;
}

export function simulateActions(deps: IamDeps): QueryAction<Caller>[] {
  const simulate = async (
    tx: StoreOps,
    ctx: Ctx,
    input: SimulationInput,
    base: {
      identity: Policy[];
      boundary?: Policy;
      principal: RequestPrincipal;
      context: Record<string, ContextValue>;
      scp?: Policy[][];
    },
  ) => {
    const account = accountOf(ctx);
    const results = [];
    for (const action of input.actions) {
      for (const resource of input.resources) {
        const resourceAccount = parseArn(resource)?.account || input.resourceOwner?.split(':')[4] || account;
        const trust = await trustFor(tx, action, resource);
        const custom =
          input.resourcePolicy !== undefined
            ? { ...validateDocument(input.resourcePolicy, 'resource'), source: 'simulated resource policy' }
            : undefined;
        const resourcePolicy = trust ?? custom;
        const set: PolicySet = {
          identity: base.identity,
          ...(base.boundary ? { boundary: base.boundary } : {}),
          ...(base.scp ? { scp: base.scp } : {}),
          ...(resourcePolicy ? { resource: resourcePolicy } : {}),
          resourceAccount,
        };
        const decision = evaluate(
          { action, resource, principal: base.principal, context: { ...base.context, ...input.context } },
          set,
        );
        results.push(resultXml(action, resource, decision));
      }
    }
    const { items, ...rest } = paginate(
      results,
      input.page,
      (r) => `${r.EvalActionName}\u0000${r.EvalResourceName}`,
    );
    return { EvaluationResults: items, ...rest };
  };

  return [
    defineAction({
      service: 'iam',
      name: 'SimulatePrincipalPolicy',
      auth: 'sigv4',
      input: (p) => ({
        source: p.str('PolicySourceArn', { required: true, min: 20, max: 2048 }),
        ...readSimulation(p),
      }),
      handler: async (input, ctx) =>
        deps.store.transaction(async (tx) => {
          await authorize(deps, tx, ctx, 'iam:SimulatePrincipalPolicy', input.source);
          const arn = parseArn(input.source);
          const kind = arn?.resource.split('/')[0];
          const entity =
            kind === 'role'
              ? await tx.getBy('role', 'arn', input.source)
              : kind === 'user'
                ? await tx.getBy('user', 'arn', input.source)
                : undefined;
          if (!entity || entity.accountId !== accountOf(ctx))
            throw new AwsError('NoSuchEntity', `Entity ${input.source} does not exist.`);
          const pp = await deps.authorizer.roleOrUserPolicies(tx, entity, `${kind}/${entity.name}`);
          const identity = [...pp.identity, ...parseAll(input.policies, 'identity', 'simulated policy')];
          const boundaries = parseAll(input.boundaries, 'boundary', 'simulated boundary');
          const boundary = boundaries[0] ?? pp.boundary;
          const context = {
            ...baseContext(requestMeta(deps, ctx.request)),
            'aws:PrincipalArn': entity.arn,
            'aws:PrincipalAccount': entity.accountId,
          };
          const principal: RequestPrincipal = {
            type: 'AWS',
            ids: [
              input.callerArn ?? entity.arn,
              entity.arn,
              entity.id,
              entity.accountId,
              accountRootArn(entity.accountId),
            ],
            account: entity.accountId,
          };
          const scp = await deps.authorizer.scps(tx, entity.accountId);
          return simulate(tx, ctx, input, {
            identity,
            ...(boundary ? { boundary } : {}),
            principal,
            context,
            ...(scp ? { scp } : {}),
          });
        }),
    }),
    defineAction({
      service: 'iam',
      name: 'SimulateCustomPolicy',
      auth: 'sigv4',
      input: (p) => {
        const input = readSimulation(p);
        if (input.policies.length === 0) p.violation('policyInputList', null, 'Member must not be null');
        return input;
      },
      handler: async (input, ctx) =>
        deps.store.transaction(async (tx) => {
          await authorize(deps, tx, ctx, 'iam:SimulateCustomPolicy', '*');
          const account = accountOf(ctx);
          const caller = input.callerArn ?? accountRootArn(account);
          const principal: RequestPrincipal = {
            type: 'AWS',
            ids: [caller, account, accountRootArn(account)],
            account,
          };
          const boundaries = parseAll(input.boundaries, 'boundary', 'simulated boundary');
          return simulate(tx, ctx, input, {
            identity: parseAll(input.policies, 'identity', 'simulated policy'),
            ...(boundaries[0] ? { boundary: boundaries[0] } : {}),
            principal,
            context: {
              ...baseContext(requestMeta(deps, ctx.request)),
              'aws:PrincipalArn': caller,
              'aws:PrincipalAccount': account,
            },
          });
        }),
    }),
    defineAction({
      service: 'iam',
      name: 'GetAccountAuthorizationDetails',
      auth: 'sigv4',
      input: (p) => ({
        filter: p.list('Filter', {
          pattern: {
            re: /^(User|Role|Group|LocalManagedPolicy|AWSManagedPolicy)$/,
            text: 'User|Role|Group|LocalManagedPolicy|AWSManagedPolicy',
          },
        }),
        page: readPage(p),
      }),
      handler: async ({ filter, page }, ctx) => {
        const entries = await deps.store.transaction(async (tx) => {
          await authorize(deps, tx, ctx, 'iam:GetAccountAuthorizationDetails', '*');
          return authorizationEntries(tx, accountOf(ctx), filter);
        });
        // Users, roles and policies form one listing, paged together by one marker.
        const { items, ...rest } = paginate(entries, page, (e) => e.key);
        const pick = <K extends Entry['kind']>(kind: K) =>
          items.filter((e): e is Extract<Entry, { kind: K }> => e.kind === kind).map((e) => e.xml);
        return {
          UserDetailList: pick('user'),
          GroupDetailList: [],
          RoleDetailList: pick('role'),
          Policies: pick('policy'),
          ...rest,
        };
      },
    }),
  ];
}

const inlineXml = (m: Record<string, string>) =>
  Object.entries(m).map(([PolicyName, doc]) => ({ PolicyName, PolicyDocument: encodeDocument(doc) }));
const attachedXml = (arns: string[]) =>
  arns.map((PolicyArn) => ({ PolicyName: PolicyArn.split('/').at(-1) ?? PolicyArn, PolicyArn }));

function userDetail(u: UserRecord) {
  return {
    ...userXml(u),
    UserPolicyList: inlineXml(u.inlinePolicies),
    GroupList: [],
    AttachedManagedPolicies: attachedXml(u.attachedPolicies),
    Tags: tagsXml(u.tags),
  };
}

function roleDetail(r: RoleRecord) {
  const { Description: _d, MaxSessionDuration: _m, ...base } = roleXml(r);
  return {
    ...base,
    InstanceProfileList: [],
    RolePolicyList: inlineXml(r.inlinePolicies),
    AttachedManagedPolicies: attachedXml(r.attachedPolicies),
  };
}

function policyDetail(p: ManagedPolicyRecord, usage: Usage) {
  return {
    ...policyXml(p, usage),
    Tags: undefined,
    PolicyVersionList: p.versions.map((v) => versionXml(p, v.versionId)),
  };
}

type Entry =
  | { kind: 'user'; key: string; xml: ReturnType<typeof userDetail> }
  | { kind: 'role'; key: string; xml: ReturnType<typeof roleDetail> }
  | { kind: 'policy'; key: string; xml: ReturnType<typeof policyDetail> };

/**
 * What GetAccountAuthorizationDetails lists, in a stable order for its marker: users, roles, then
 * the account's own policies and the AWS managed policies attached in it (as AWS lists only those).
 */
async function authorizationEntries(
  tx: StoreOps,
  account: string,
  filter: string[] | undefined,
): Promise<Entry[]> {
  const want = (f: string) => !filter || filter.length === 0 || filter.includes(f);
  const roles = await tx.list('role', { index: { name: 'account', value: account } });
  const users = await tx.list('user', { index: { name: 'account', value: account } });
  const usage = (arn: string) => usageIn([...roles, ...users], arn);
  const byName = <T extends { name: string }>(xs: T[]) =>
    [...xs].sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1));
  const out: Entry[] = [];
  if (want('User'))
    for (const u of byName(users))
      out.push({ kind: 'user', key: `1${u.name.toLowerCase()}`, xml: userDetail(u) });
  if (want('Role'))
    for (const r of byName(roles))
      out.push({ kind: 'role', key: `2${r.name.toLowerCase()}`, xml: roleDetail(r) });
  const policies: ManagedPolicyRecord[] = [];
  if (want('LocalManagedPolicy'))
    policies.push(...(await tx.list('managedPolicy', { index: { name: 'account', value: account } })));
  if (want('AWSManagedPolicy')) {
    const awsPolicies = await tx.list('managedPolicy', { index: { name: 'account', value: 'aws' } });
    policies.push(...awsPolicies.filter((p) => usage(p.arn).attached + usage(p.arn).boundary > 0));
  }
  for (const p of [...policies].sort((a, b) => (a.arn < b.arn ? -1 : 1)))
    out.push({ kind: 'policy', key: `3${p.arn}`, xml: policyDetail(p, usage(p.arn)) });
  return out;
}
