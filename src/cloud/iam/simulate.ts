// SimulatePrincipalPolicy and SimulateCustomPolicy on gatepass's own engine, plus
// GetAccountAuthorizationDetails. Beyond AWS's simulator, sts:AssumeRole* on a role ARN of the
// account is evaluated with that role's trust policy as the resource policy, so trust can be tested
// before a run ever presents a token; and a role source may name one of its sessions as CallerArn
// (AWS takes only a user there), so what a run's session may do can be simulated too.
import { accountRootArn, assumedRoleArn } from '../../core/arn.js';
import { isAccountId } from '../../core/ids.js';
import {
  type ContextValue,
  type Decision,
  evaluate,
  type Policy,
  type PolicySet,
  type RequestPrincipal,
} from '../../core/policy/index.js';
import { defineAction, type QueryAction } from '../../core/query/dispatch.js';
import { awsError, CONSTRAINTS } from '../../core/query/errors.js';
import type { FormReader } from '../../core/query/parse-form.js';
import type { ManagedPolicyRecord, RoleRecord, UserRecord } from '../../store/records/iam.js';
import type { StoreOps } from '../../store/types.js';
import { baseContext, resourceOwner } from '../authz/authorizer.js';
import type { Caller } from '../caller/caller.js';
import {
  accountOf,
  authorize,
  type Ctx,
  encodeDocument,
  type IamDeps,
  iamTransaction,
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

const ASSUME = /^sts:AssumeRole/i;
const KMS_KEY = /^arn:[^:]+:kms:[^:]*:\d{12}:key\//;
const ROLE_ARN = /^arn:[^:]+:iam::\d{12}:role\//;

/** Trust policy of a role ARN in `account`, when the action is an sts:AssumeRole*. */
async function trustFor(tx: StoreOps, action: string, resource: string): Promise<Policy | undefined> {
  if (!ASSUME.test(action)) return undefined;
  const role = await tx.getBy('role', 'arn', resource);
  return role
    ? { ...validateDocument(role.trustPolicy, 'trust'), source: `trust policy of role/${role.name}` }
    : undefined;
}

/**
 * STS answers GetCallerIdentity whatever the policies say, even under an explicit deny (STS API
 * Reference, GetCallerIdentity: "No permissions are required"); the live action does the same.
 */
const NEEDS_NO_PERMISSION = /^sts:GetCallerIdentity$/i;

const unconditionalAllow = (request: Decision['request']): Decision => ({
  effect: 'Allow',
  layer: null,
  reason: 'no-permission-required',
  layers: [],
  request,
});

/** The account of ResourceOwner: AWS's simulator documents an account ARN for one action and an id for the other. */
function ownerAccount(owner: string | undefined): string | undefined {
  if (owner === undefined) return undefined;
  const account = isAccountId(owner) ? owner : /^arn:[^:]+:iam::(\d{12}):root$/.exec(owner)?.[1];
  if (account === undefined) throw awsError('invalidResourceOwner', owner);
  return account;
}

type SourceEntity =
  | { kind: 'user'; record: UserRecord; label: string }
  | { kind: 'role'; record: RoleRecord; label: string };

/** The user or role PolicySourceArn names, in the caller's account (AWS: NoSuchEntity otherwise). */
async function sourceEntity(tx: StoreOps, arn: string, account: string): Promise<SourceEntity> {
  const kind = /^arn:[^:]+:iam::\d{12}:(user|role)\//.exec(arn)?.[1];
  const found: SourceEntity | undefined =
    kind === 'role'
      ? mapDefined(await tx.getBy('role', 'arn', arn), (r) => ({
          kind: 'role',
          record: r,
          label: `role/${r.name}`,
        }))
      : kind === 'user'
        ? mapDefined(await tx.getBy('user', 'arn', arn), (u) => ({
            kind: 'user',
            record: u,
            label: `user/${u.name}`,
          }))
        : undefined;
  if (!found || found.record.accountId !== account) throw awsError('simulatedEntityNotFound', arn);
  return found;
}

const mapDefined = <T, R>(v: T | undefined, f: (v: T) => R): R | undefined =>
  v === undefined ? undefined : f(v);

/**
 * Who the simulated request comes from, with the global keys AWS presents for that caller: the
 * source user (or the CallerArn user, as AWS documents), the source role, or, beyond AWS, a session
 * of the source role named by CallerArn (`arn:aws:sts::<account>:assumed-role/<role>/<session>`),
 * which a resource policy naming the session matches and the session rules of evaluation apply to.
 */
function callerOf(
  entity: SourceEntity,
  callerArn: string | undefined,
): { principal: RequestPrincipal; context: Record<string, ContextValue>; session?: string } {
  const { record } = entity;
  const account = record.accountId;
  const shared = [account, accountRootArn(account)];
  const context: Record<string, ContextValue> = { 'aws:PrincipalAccount': account };
  const user = callerArn ?? (entity.kind === 'user' ? record.arn : undefined);
  if (user !== undefined && USER_ARN.test(user)) {
    // "As if Bob had David's policies": the caller is the CallerArn user, the policies the source's.
    const self = user === record.arn;
    context['aws:PrincipalArn'] = user;
    context['aws:PrincipalType'] = 'User';
    context['aws:username'] = user.slice(user.lastIndexOf('/') + 1);
    if (self) context['aws:userid'] = record.id;
    const ids = self ? [user, record.id] : [user];
    return { principal: { type: 'AWS', ids: [...ids, ...shared], account }, context };
  }
  const prefix = assumedRoleArn(account, record.name, '');
  const session = callerArn?.startsWith(prefix) ? callerArn.slice(prefix.length) : undefined;
  if (entity.kind === 'role' && (callerArn === undefined || callerArn === record.arn)) {
    context['aws:PrincipalArn'] = record.arn;
    context['aws:userid'] = record.id;
    return { principal: { type: 'AWS', ids: [record.arn, record.id, ...shared], account }, context };
  }
  if (entity.kind !== 'role' || callerArn === undefined || session === undefined || !SESSION.test(session))
    throw awsError('callerArnNotASession', callerArn, prefix);
  context['aws:PrincipalArn'] = record.arn;
  context['aws:PrincipalType'] = 'AssumedRole';
  context['aws:userid'] = `${record.id}:${session}`;
  return {
    principal: {
      type: 'AWS',
      ids: [callerArn, record.arn, record.id, `${record.id}:${session}`, ...shared],
      account,
    },
    context,
    session,
  };
}

const USER_ARN = /^arn:[^:]+:iam::\d{12}:user\//;
/** RoleSessionName's pattern and length (STS API Reference, AssumeRole). */
const SESSION = /^[\w+=,.@-]{2,64}$/;

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
      principalIsSession?: boolean;
    },
  ) => {
    const owner = ownerAccount(input.resourceOwner) ?? accountOf(ctx);
    const custom =
      input.resourcePolicy !== undefined
        ? { ...validateDocument(input.resourcePolicy, 'resource'), source: 'simulated resource policy' }
        : undefined;
    const results = [];
    for (const action of input.actions) {
      for (const resource of input.resources) {
        const request = {
          action,
          resource,
          principal: base.principal,
          context: { ...base.context, ...input.context },
        };
        if (NEEDS_NO_PERMISSION.test(action)) {
          results.push(resultXml(action, resource, unconditionalAllow(request)));
          continue;
        }
        // A role's own trust policy decides sts:AssumeRole*; a given resource policy stands in for
        // the trust policy of a role the store does not hold (and must allow, as a trust policy must).
        const assumesRole = ASSUME.test(action) && ROLE_ARN.test(resource);
        const resourcePolicy =
          (await trustFor(tx, action, resource)) ??
          (custom && assumesRole ? { ...custom, kind: 'trust' as const } : custom);
        const set: PolicySet = {
          identity: base.identity,
          ...(base.boundary ? { boundary: base.boundary } : {}),
          ...(base.scp ? { scp: base.scp } : {}),
          ...(resourcePolicy ? { resource: resourcePolicy } : {}),
          ...(base.principalIsSession ? { principalIsSession: true } : {}),
          // A KMS key policy must allow (an account grant lets IAM policies count); a key simulated
          // without one has a policy that allows nothing.
          ...(KMS_KEY.test(resource) ? { resourceMustAllow: true } : {}),
          resourceAccount: resourceOwner(action, resource, owner),
        };
        results.push(resultXml(action, resource, evaluate(request, set)));
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
        iamTransaction(deps, async (tx) => {
          await authorize(deps, tx, ctx, 'iam:SimulatePrincipalPolicy', input.source);
          const entity = await sourceEntity(tx, input.source, accountOf(ctx));
          const pp = await deps.authorizer.roleOrUserPolicies(tx, entity.record, entity.label);
          const identity = [...pp.identity, ...parseAll(input.policies, 'identity', 'simulated policy')];
          const boundaries = parseAll(input.boundaries, 'boundary', 'simulated boundary');
          const boundary = boundaries[0] ?? pp.boundary;
          const caller = callerOf(entity, input.callerArn);
          const scp = await deps.authorizer.scps(tx, entity.record.accountId);
          return simulate(tx, ctx, input, {
            identity,
            ...(boundary ? { boundary } : {}),
            principal: caller.principal,
            context: { ...baseContext(requestMeta(deps, ctx.request)), ...caller.context },
            ...(scp ? { scp } : {}),
            ...(caller.session ? { principalIsSession: true } : {}),
          });
        }),
    }),
    defineAction({
      service: 'iam',
      name: 'SimulateCustomPolicy',
      auth: 'sigv4',
      input: (p) => {
        const input = readSimulation(p);
        if (input.policies.length === 0) p.violation('policyInputList', null, CONSTRAINTS.notNull());
        return input;
      },
      handler: async (input, ctx) =>
        iamTransaction(deps, async (tx) => {
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
        const entries = await iamTransaction(deps, async (tx) => {
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
