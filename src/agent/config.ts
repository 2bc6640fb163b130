// Resolves a run's credential configurations from the workspace's environment variables, following
// HCP Terraform's dynamic-credentials contract (spec-notes §2.2, §2.5) plus gatepass's extensions
// (chain targets, allowed account ids, endpoints). Pure: every problem is collected and reported
// together before anything is minted.
import { parseArn } from '../core/arn.js';
import { isAccountId } from '../core/ids.js';
import { AgentError } from './errors.js';

export type Phase = 'plan' | 'apply';

export const DEFAULT_AWS_AUDIENCE = 'aws.workload.identity';
export const DEFAULT_REGION = 'us-east-1';
const MAX_CHAIN = 10;
const MAX_TAG = 64;
const AUTH_VAR = 'TFC_AWS_PROVIDER_AUTH';
const GENERIC_AUDIENCE_VAR = 'TFC_WORKLOAD_IDENTITY_AUDIENCE';

/** One AWS configuration: the default (tag '') or a tagged alias. */
export interface AwsConfiguration {
  tag: string;
  /** Role assumed with the web identity token in this phase. */
  roleArn: string;
  audience: string;
  /** Roles assumed one after the other from the web identity session (AssumeRole chain). */
  chain: readonly string[];
  /** Empty: no guard. */
  allowedAccountIds: readonly string[];
}

/** A generic workload identity token (`TFC_WORKLOAD_IDENTITY_AUDIENCE[_TAG]`). */
export interface GenericToken {
  tag: string;
  audience: string;
  /** `TFC_WORKLOAD_IDENTITY_TOKEN[_TAG]` */
  envName: string;
}

export interface RunConfig {
  phase: Phase;
  /** Default configuration first, then tags in sorted order. */
  aws: readonly AwsConfiguration[];
  generic: readonly GenericToken[];
  region: string;
  /** `gatepass-<run id>-<phase>`, within `[\w+=,.@-]{2,64}`. */
  sessionName: string;
  /** Absent: AWS's own STS. */
  stsEndpoint?: string;
  iamEndpoint?: string;
  /** Things that do not stop the run but that the operator should hear about. */
  warnings: readonly string[];
}

export interface ResolveInput {
  /** Workspace env variables; null = a sensitive value the agent cannot read. */
  variables: ReadonlyMap<string, string | null>;
  phase: Phase;
  runId: string;
  /** `--region`, beats the workspace's AWS_REGION / AWS_DEFAULT_REGION. */
  region?: string;
  /** `--sts-endpoint`, beats GATEPASS_AWS_STS_ENDPOINT. */
  stsEndpoint?: string;
  /** `--iam-endpoint`, beats GATEPASS_AWS_IAM_ENDPOINT. */
  iamEndpoint?: string;
}

const TAG_CHARS = /^[A-Za-z0-9_]+$/;
const ROLE_RESOURCE = /^role(\/|\/[\x21-\x7e]{0,510}\/)[\w+=,.@-]{1,64}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const SESSION_CHARS = /[^\w+=,.@-]/g;

/** Why a tag is unusable, or undefined when it is fine (HCP: letters, digits, '_'; `TYPE` reserved). */
export function tagProblem(tag: string): string | undefined {
  if (tag === '') return 'is empty';
  if (tag.length > MAX_TAG) return `is longer than ${MAX_TAG} characters`;
  if (!TAG_CHARS.test(tag)) return 'may contain only letters, digits and "_"';
  if (tag.toUpperCase() === 'TYPE') return 'is the reserved word TYPE';
  return undefined;
}

/** Why `text` is not an IAM role ARN, or undefined when it is one. */
export function roleArnProblem(text: string): string | undefined {
  const arn = parseArn(text);
  if (!arn || !/^aws(-[a-z]+)*$/.test(arn.partition)) return 'is not an ARN';
  if (arn.service !== 'iam' || arn.region !== '') return 'is not an IAM ARN';
  if (!isAccountId(arn.account)) return 'does not name a 12-digit account';
  if (!ROLE_RESOURCE.test(arn.resource)) return 'is not a role ARN';
  if (text.length > 2048) return 'is too long';
  return undefined;
}

export const accountOfRoleArn = (arn: string): string => parseArn(arn)?.account ?? '';

/** The session name of a run phase, always valid for RoleSessionName. */
export function sessionNameFor(runId: string, phase: Phase): string {
  const name = `gatepass-${runId}-${phase}`.replace(SESSION_CHARS, '-');
  return name.slice(0, 64);
}

class Collector {
  readonly problems: string[] = [];
  readonly warnings: string[] = [];
  constructor(private readonly vars: ReadonlyMap<string, string | null>) {}

  /** A set value, or undefined; a sensitive (unreadable) value is a problem. */
  get(key: string): string | undefined {
    if (!this.vars.has(key)) return undefined;
    const v = this.vars.get(key);
    if (v === null || v === undefined) {
      this.problems.push(`${key} is sensitive; the agent cannot read its value (make it non-sensitive)`);
      return undefined;
    }
    const t = v.trim();
    return t === '' ? undefined : t;
  }

  /** `<prefix><NAME>[_TAG]`, then `<defaultPrefix><NAME>`; returns the value and the key it came from. */
  pick(
    prefix: string,
    defaultPrefix: string,
    name: string,
    tag: string,
  ): { value: string; key: string } | undefined {
    const own = tag === '' ? `${prefix}${name}` : `${prefix}${name}_${tag}`;
    const v = this.get(own);
    if (v !== undefined) return { value: v, key: own };
    const fallback = `${defaultPrefix}${name}`;
    const d = this.get(fallback);
    return d === undefined ? undefined : { value: d, key: fallback };
  }
}

const configLabel = (tag: string): string => (tag === '' ? 'default configuration' : `configuration ${tag}`);

function resolveRole(c: Collector, phase: Phase, tag: string): string | undefined {
  const phaseVar = phase === 'plan' ? 'AWS_PLAN_ROLE_ARN' : 'AWS_APPLY_ROLE_ARN';
  const found =
    c.pick('TFC_', 'TFC_DEFAULT_', phaseVar, tag) ?? c.pick('TFC_', 'TFC_DEFAULT_', 'AWS_RUN_ROLE_ARN', tag);
  if (!found) {
    const own = tag === '' ? '' : `_${tag}`;
    c.problems.push(
      `${configLabel(tag)}: no role for the ${phase} phase (set TFC_AWS_RUN_ROLE_ARN${own} or TFC_AWS_${phase.toUpperCase()}_ROLE_ARN${own})`,
    );
    return undefined;
  }
  const bad = roleArnProblem(found.value);
  if (bad) {
    c.problems.push(`${found.key} ${bad}`);
    return undefined;
  }
  return found.value;
}

function resolveAudience(c: Collector, key: string, value: string): string | undefined {
  if (value.length > 255 || !/^[\x21-\x7e]+$/.test(value)) {
    c.problems.push(`${key} must be 1-255 printable ASCII characters without spaces`);
    return undefined;
  }
  return value;
}

function resolveChain(c: Collector, phase: Phase, tag: string): string[] {
  const phaseVar = phase === 'plan' ? 'AWS_PLAN_CHAIN_ROLE_ARN' : 'AWS_APPLY_CHAIN_ROLE_ARN';
  const found =
    c.pick('GATEPASS_', 'GATEPASS_DEFAULT_', phaseVar, tag) ??
    c.pick('GATEPASS_', 'GATEPASS_DEFAULT_', 'AWS_CHAIN_ROLE_ARN', tag);
  if (!found) return [];
  const hops = found.value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (hops.length > MAX_CHAIN) c.problems.push(`${found.key} has more than ${MAX_CHAIN} roles`);
  for (const [i, hop] of hops.entries()) {
    const bad = roleArnProblem(hop);
    if (bad) c.problems.push(`${found.key} role ${i + 1} ${bad}`);
  }
  return hops;
}

function resolveAllowed(c: Collector, tag: string): string[] {
  const found = c.pick('GATEPASS_', 'GATEPASS_DEFAULT_', 'AWS_ALLOWED_ACCOUNT_IDS', tag);
  if (!found) return [];
  const ids = found.value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const id of ids) {
    if (!isAccountId(id))
      c.problems.push(`${found.key} contains "${id.slice(0, 20)}", not a 12-digit account id`);
  }
  return ids;
}

function resolveEndpoint(
  c: Collector,
  flag: string | undefined,
  variable: string,
  what: string,
): string | undefined {
  const value = flag ?? c.get(variable);
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    c.problems.push(`the ${what} endpoint is not a URL`);
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    c.problems.push(`the ${what} endpoint must be an http or https URL`);
    return undefined;
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    c.problems.push(`the ${what} endpoint must not carry credentials, a query or a fragment`);
    return undefined;
  }
  return url.href.replace(/\/$/, '');
}

/** True for AWS's own STS (absent endpoint or an amazonaws.com host), which has no RevokeRun. */
export function isAwsEndpoint(endpoint: string | undefined): boolean {
  if (endpoint === undefined) return true;
  const host = new URL(endpoint).hostname;
  return host.endsWith('.amazonaws.com') || host.endsWith('.amazonaws.com.cn');
}

/** Tags found as `<prefix><TAG>` keys, with the keys whose tag is unusable. */
function tagsOf(vars: ReadonlyMap<string, string | null>, prefix: string): { tags: string[]; bad: string[] } {
  const tags: string[] = [];
  const bad: string[] = [];
  for (const key of vars.keys()) {
    if (!key.startsWith(prefix)) continue;
    const tag = key.slice(prefix.length);
    if (tagProblem(tag) === undefined) tags.push(tag);
    else bad.push(key);
  }
  return { tags: tags.sort(), bad };
}

const isTrue = (v: string | undefined): boolean => v?.toLowerCase() === 'true';

export function resolveRunConfig(input: ResolveInput): RunConfig {
  const c = new Collector(input.variables);
  const enabled: string[] = [];

  const def = c.get(AUTH_VAR);
  if (isTrue(def)) enabled.push('');
  else if (def !== undefined)
    c.warnings.push(`${AUTH_VAR} is "${def.slice(0, 20)}", not "true": no default AWS configuration`);

  const tagged = tagsOf(input.variables, `${AUTH_VAR}_`);
  for (const key of tagged.bad) c.problems.push(`${key}: tag ${tagProblem(key.slice(AUTH_VAR.length + 1))}`);
  for (const tag of tagged.tags) {
    const v = c.get(`${AUTH_VAR}_${tag}`);
    if (isTrue(v)) enabled.push(tag);
    else if (v !== undefined)
      c.warnings.push(`${AUTH_VAR}_${tag} is not "true": configuration ${tag} is off`);
  }

  // Tagged settings whose configuration is not enabled are most likely a typo in the tag.
  const enabledSet = new Set(enabled);
  for (const family of [
    'TFC_AWS_RUN_ROLE_ARN_',
    'TFC_AWS_PLAN_ROLE_ARN_',
    'TFC_AWS_APPLY_ROLE_ARN_',
    'TFC_AWS_WORKLOAD_IDENTITY_AUDIENCE_',
    'GATEPASS_AWS_CHAIN_ROLE_ARN_',
    'GATEPASS_AWS_PLAN_CHAIN_ROLE_ARN_',
    'GATEPASS_AWS_APPLY_CHAIN_ROLE_ARN_',
    'GATEPASS_AWS_ALLOWED_ACCOUNT_IDS_',
  ]) {
    for (const tag of tagsOf(input.variables, family).tags) {
      if (!enabledSet.has(tag))
        c.warnings.push(`${family}${tag} is set but ${AUTH_VAR}_${tag} is not "true"; ignored`);
    }
  }

  const aws: AwsConfiguration[] = [];
  for (const tag of enabled) {
    const roleArn = resolveRole(c, input.phase, tag);
    const audFound = c.pick('TFC_', 'TFC_DEFAULT_', 'AWS_WORKLOAD_IDENTITY_AUDIENCE', tag);
    const audience = audFound ? resolveAudience(c, audFound.key, audFound.value) : DEFAULT_AWS_AUDIENCE;
    const chain = resolveChain(c, input.phase, tag);
    const allowedAccountIds = resolveAllowed(c, tag);
    if (roleArn !== undefined && audience !== undefined)
      aws.push({ tag, roleArn, audience, chain, allowedAccountIds });
  }

  const generic: GenericToken[] = [];
  const genericDefault = c.get(GENERIC_AUDIENCE_VAR);
  if (genericDefault !== undefined) {
    const audience = resolveAudience(c, GENERIC_AUDIENCE_VAR, genericDefault);
    if (audience !== undefined) generic.push({ tag: '', audience, envName: 'TFC_WORKLOAD_IDENTITY_TOKEN' });
  }
  const genericTags = tagsOf(input.variables, `${GENERIC_AUDIENCE_VAR}_`);
  for (const key of genericTags.bad)
    c.problems.push(`${key}: tag ${tagProblem(key.slice(GENERIC_AUDIENCE_VAR.length + 1))}`);
  for (const tag of genericTags.tags) {
    const key = `${GENERIC_AUDIENCE_VAR}_${tag}`;
    const value = c.get(key);
    if (value === undefined) continue;
    const audience = resolveAudience(c, key, value);
    if (audience !== undefined)
      generic.push({ tag, audience, envName: `TFC_WORKLOAD_IDENTITY_TOKEN_${tag}` });
  }

  let region = input.region ?? c.get('AWS_REGION') ?? c.get('AWS_DEFAULT_REGION') ?? DEFAULT_REGION;
  if (!REGION.test(region)) {
    c.problems.push(`region "${region.slice(0, 40)}" is not an AWS region name`);
    region = DEFAULT_REGION;
  }

  const stsEndpoint = resolveEndpoint(c, input.stsEndpoint, 'GATEPASS_AWS_STS_ENDPOINT', 'STS');
  // gatepass serves IAM next to STS, so a non-AWS STS endpoint is also the IAM endpoint by default.
  const iamEndpoint =
    resolveEndpoint(c, input.iamEndpoint, 'GATEPASS_AWS_IAM_ENDPOINT', 'IAM') ??
    (stsEndpoint !== undefined && !isAwsEndpoint(stsEndpoint) ? stsEndpoint : undefined);

  if (aws.length === 0 && generic.length === 0 && c.problems.length === 0) {
    c.warnings.push(
      `no credential configuration: set ${AUTH_VAR}=true (or ${GENERIC_AUDIENCE_VAR}) in the workspace`,
    );
  }
  if (c.problems.length > 0) throw new AgentError('invalid_configuration', c.problems);

  const out: RunConfig = {
    phase: input.phase,
    aws,
    generic,
    region,
    sessionName: sessionNameFor(input.runId, input.phase),
    warnings: c.warnings,
  };
  if (stsEndpoint !== undefined) out.stsEndpoint = stsEndpoint;
  if (iamEndpoint !== undefined) out.iamEndpoint = iamEndpoint;
  return out;
}
