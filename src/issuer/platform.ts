// The platform model: organizations (each with a "Default Project"), projects, workspaces,
// variables, variable sets and agent tokens, with immutable ids and mutable names.
import type { Clock, Random } from '../core/deps.js';
import { hcpId } from '../core/ids.js';
import type {
  AgentTokenRecord,
  OrganizationRecord,
  ProjectRecord,
  VariableRecord,
  VariableSetRecord,
  WorkspaceRecord,
} from '../store/records/platform.js';
import type { Store } from '../store/types.js';
import { StoreConflictError } from '../store/types.js';
import { effectiveTokenOptions, subjectFor } from './claims.js';
import { IssuerError, invalidField } from './errors.js';
import { asBody, onlyFields, optBool, optInt, optString, optStringArray, optTokenOptions } from './input.js';
import { checkName, checkVariableKey, NAME_RULES } from './names.js';
import { AGENT_TOKEN_PREFIX, generateSecret, hashSecret } from './secrets.js';
import { effectiveVariables, type PublicVariable, publicVariable, setAppliesTo } from './variables.js';

export const DEFAULT_PROJECT = 'Default Project';
export const DEFAULT_PLAN_TIMEOUT = 7_200;
export const DEFAULT_APPLY_TIMEOUT = 86_400;
export const DEFAULT_ORG_MAX_TIMEOUT = 86_400;
const MIN_TIMEOUT = 60;
const MAX_TIMEOUT = 7 * 86_400;
const MAX_VALUE = 65_536;

export interface PlatformDeps {
  store: Store;
  clock: Clock;
  random: Random;
}

export interface PublicAgentToken {
  id: string;
  orgId: string;
  description: string;
  workspaceIds: string[];
  createdAt: number;
  lastUsedAt?: number;
  revokedAt?: number;
}

export function publicAgentToken(t: AgentTokenRecord): PublicAgentToken {
  const { hash: _hash, ...rest } = t;
  return rest;
}

/** Unique-index violations become a 409 naming the field. */
async function unique<T>(field: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StoreConflictError && err.reason === 'exists')
      throw new IssuerError('conflict', field);
    throw err;
  }
}

export class Platform {
  constructor(private readonly deps: PlatformDeps) {}

  private get store(): Store {
    return this.deps.store;
  }

  private now(): number {
    return this.deps.clock.now();
  }

  // Organizations ---------------------------------------------------------------------------

  async createOrg(raw: unknown): Promise<{ organization: OrganizationRecord; project: ProjectRecord }> {
    const body = asBody(raw);
    onlyFields(body, ['name', 'maxPhaseTimeoutSeconds', 'tokenOptions']);
    const name = checkName('name', body.name, NAME_RULES.organization);
    const organization: OrganizationRecord = {
      id: hcpId(this.deps.random, 'org'),
      name,
      createdAt: this.now(),
      maxPhaseTimeoutSeconds:
        optInt(body, 'maxPhaseTimeoutSeconds', MIN_TIMEOUT, MAX_TIMEOUT) ?? DEFAULT_ORG_MAX_TIMEOUT,
      tokenOptions: optTokenOptions(body, 'tokenOptions') ?? {},
    };
    const project: ProjectRecord = {
      id: hcpId(this.deps.random, 'prj'),
      orgId: organization.id,
      name: DEFAULT_PROJECT,
      createdAt: organization.createdAt,
    };
    await unique('name', () =>
      this.store.transaction(async (tx) => {
        await tx.insert('organization', organization);
        await tx.insert('project', project);
      }),
    );
    return { organization, project };
  }

  listOrgs(): Promise<OrganizationRecord[]> {
    return this.store.list('organization');
  }

  /** By id (`org-…`) or by name. */
  async getOrg(ref: string): Promise<OrganizationRecord> {
    const org = ref.startsWith('org-')
      ? await this.store.get('organization', ref)
      : await this.store.getBy('organization', 'name', ref.toLowerCase());
    if (!org) throw new IssuerError('not_found', 'organization');
    return org;
  }

  async updateOrg(ref: string, raw: unknown): Promise<OrganizationRecord> {
    const body = asBody(raw);
    onlyFields(body, ['name', 'maxPhaseTimeoutSeconds', 'tokenOptions']);
    const org = await this.getOrg(ref);
    const next: OrganizationRecord = { ...org };
    if (body.name !== undefined) next.name = checkName('name', body.name, NAME_RULES.organization);
    const max = optInt(body, 'maxPhaseTimeoutSeconds', MIN_TIMEOUT, MAX_TIMEOUT);
    if (max !== undefined) next.maxPhaseTimeoutSeconds = max;
    const options = optTokenOptions(body, 'tokenOptions');
    if (options !== undefined) next.tokenOptions = options;
    await this.checkSubjects(next);
    await unique('name', () => this.store.update('organization', next));
    return next;
  }

  // Projects --------------------------------------------------------------------------------

  async createProject(orgRef: string, raw: unknown): Promise<ProjectRecord> {
    const body = asBody(raw);
    onlyFields(body, ['name']);
    const org = await this.getOrg(orgRef);
    const project: ProjectRecord = {
      id: hcpId(this.deps.random, 'prj'),
      orgId: org.id,
      name: checkName('name', body.name, NAME_RULES.project),
      createdAt: this.now(),
    };
    await unique('name', () => this.store.insert('project', project));
    return project;
  }

  async listProjects(orgRef: string): Promise<ProjectRecord[]> {
    const org = await this.getOrg(orgRef);
    return this.store.list('project', { index: { name: 'org', value: org.id } });
  }

  async getProject(org: OrganizationRecord, ref: string): Promise<ProjectRecord> {
    const project = ref.startsWith('prj-')
      ? await this.store.get('project', ref)
      : await this.store.getBy('project', 'orgName', `${org.id}\u001f${ref.toLowerCase()}`);
    if (!project || project.orgId !== org.id) throw new IssuerError('not_found', 'project');
    return project;
  }

  async updateProject(id: string, raw: unknown): Promise<ProjectRecord> {
    const body = asBody(raw);
    onlyFields(body, ['name']);
    const project = await this.store.get('project', id);
    if (!project) throw new IssuerError('not_found', 'project');
    const next = { ...project, name: checkName('name', body.name, NAME_RULES.project) };
    await this.checkSubjects(await this.getOrg(project.orgId), next);
    await unique('name', () => this.store.update('project', next));
    return next;
  }

  // Workspaces ------------------------------------------------------------------------------

  async createWorkspace(orgRef: string, raw: unknown): Promise<WorkspaceRecord> {
    const body = asBody(raw);
    onlyFields(body, ['name', 'project', 'planTimeoutSeconds', 'applyTimeoutSeconds', 'tokenOptions']);
    const org = await this.getOrg(orgRef);
    const name = checkName('name', body.name, NAME_RULES.workspace);
    const projectRef = optString(body, 'project', 64) ?? DEFAULT_PROJECT;
    const project = await this.getProject(org, projectRef).catch(() => {
      throw invalidField('project', 'no such project in this organization');
    });
    const ws: WorkspaceRecord = {
      id: hcpId(this.deps.random, 'ws'),
      orgId: org.id,
      projectId: project.id,
      name,
      planTimeoutSeconds:
        optInt(body, 'planTimeoutSeconds', MIN_TIMEOUT, MAX_TIMEOUT) ?? DEFAULT_PLAN_TIMEOUT,
      applyTimeoutSeconds:
        optInt(body, 'applyTimeoutSeconds', MIN_TIMEOUT, MAX_TIMEOUT) ?? DEFAULT_APPLY_TIMEOUT,
      tokenOptions: optTokenOptions(body, 'tokenOptions') ?? {},
      createdAt: this.now(),
    };
    checkSubject(org, project, ws);
    await unique('name', () => this.store.insert('workspace', ws));
    return ws;
  }

  async listWorkspaces(orgRef: string): Promise<WorkspaceRecord[]> {
    const org = await this.getOrg(orgRef);
    return this.store.list('workspace', { index: { name: 'org', value: org.id } });
  }

  async getWorkspace(id: string): Promise<WorkspaceRecord> {
    const ws = await this.store.get('workspace', id);
    if (!ws) throw new IssuerError('not_found', 'workspace');
    return ws;
  }

  /** A workspace of this organization by id or name. */
  async findWorkspace(org: OrganizationRecord, ref: string, field = 'workspace'): Promise<WorkspaceRecord> {
    const ws = ref.startsWith('ws-')
      ? await this.store.get('workspace', ref)
      : await this.store.getBy('workspace', 'orgName', `${org.id}\u001f${ref.toLowerCase()}`);
    if (!ws || ws.orgId !== org.id) throw new IssuerError('not_found', field);
    return ws;
  }

  async updateWorkspace(id: string, raw: unknown): Promise<WorkspaceRecord> {
    const body = asBody(raw);
    onlyFields(body, ['name', 'project', 'planTimeoutSeconds', 'applyTimeoutSeconds', 'tokenOptions']);
    const ws = await this.getWorkspace(id);
    const org = await this.getOrg(ws.orgId);
    const next: WorkspaceRecord = { ...ws };
    if (body.name !== undefined) next.name = checkName('name', body.name, NAME_RULES.workspace);
    const projectRef = optString(body, 'project', 64);
    if (projectRef !== undefined) {
      next.projectId = (
        await this.getProject(org, projectRef).catch(() => {
          throw invalidField('project', 'no such project in this organization');
        })
      ).id;
    }
    const plan = optInt(body, 'planTimeoutSeconds', MIN_TIMEOUT, MAX_TIMEOUT);
    if (plan !== undefined) next.planTimeoutSeconds = plan;
    const apply = optInt(body, 'applyTimeoutSeconds', MIN_TIMEOUT, MAX_TIMEOUT);
    if (apply !== undefined) next.applyTimeoutSeconds = apply;
    const options = optTokenOptions(body, 'tokenOptions');
    if (options !== undefined) next.tokenOptions = options;
    const project = await this.store.get('project', next.projectId);
    if (!project) throw new IssuerError('not_found', 'project');
    checkSubject(org, project, next);
    await unique('name', () => this.store.update('workspace', next));
    return next;
  }

  // Variables and variable sets ---------------------------------------------------------------

  /** Owner is a workspace (`ws-…`) or a variable set (`varset-…`). */
  async createVariable(ownerId: string, raw: unknown): Promise<PublicVariable> {
    const body = asBody(raw);
    onlyFields(body, ['key', 'value', 'category', 'sensitive', 'description']);
    const orgId = await this.ownerOrg(ownerId);
    const category = body.category ?? 'env';
    if (category !== 'env' && category !== 'terraform')
      throw invalidField('category', 'must be "env" or "terraform"');
    const v: VariableRecord = {
      id: hcpId(this.deps.random, 'var'),
      ownerId,
      orgId,
      key: checkVariableKey('key', body.key, category),
      value: optString(body, 'value', MAX_VALUE) ?? '',
      category,
      sensitive: optBool(body, 'sensitive') ?? false,
      createdAt: this.now(),
    };
    const description = optString(body, 'description', 512);
    if (description !== undefined) v.description = description;
    await unique('key', () => this.store.insert('variable', v));
    return publicVariable(v);
  }

  async listVariables(ownerId: string): Promise<PublicVariable[]> {
    await this.ownerOrg(ownerId);
    return (await this.store.list('variable', { index: { name: 'owner', value: ownerId } })).map(
      publicVariable,
    );
  }

  async updateVariable(id: string, raw: unknown): Promise<PublicVariable> {
    const body = asBody(raw);
    onlyFields(body, ['value', 'sensitive', 'description']);
    const v = await this.store.get('variable', id);
    if (!v) throw new IssuerError('not_found', 'variable');
    const next = { ...v };
    const value = optString(body, 'value', MAX_VALUE);
    if (value !== undefined) next.value = value;
    const sensitive = optBool(body, 'sensitive');
    // Sensitive is one-way: un-marking would reveal a value that was promised write-only.
    if (sensitive === false && v.sensitive)
      throw invalidField('sensitive', 'a sensitive variable stays sensitive');
    if (sensitive !== undefined) next.sensitive = sensitive;
    const description = optString(body, 'description', 512);
    if (description !== undefined) next.description = description;
    await this.store.update('variable', next);
    return publicVariable(next);
  }

  async deleteVariable(id: string): Promise<void> {
    if (!(await this.store.delete('variable', id))) throw new IssuerError('not_found', 'variable');
  }

  async createVariableSet(orgRef: string, raw: unknown): Promise<VariableSetRecord> {
    const body = asBody(raw);
    onlyFields(body, ['name', 'global', 'workspaces']);
    const org = await this.getOrg(orgRef);
    const set: VariableSetRecord = {
      id: hcpId(this.deps.random, 'varset'),
      orgId: org.id,
      name: checkName('name', body.name, NAME_RULES.variableSet),
      global: optBool(body, 'global') ?? false,
      workspaceIds: await this.workspaceIds(org, optStringArray(body, 'workspaces', 1000) ?? []),
      createdAt: this.now(),
    };
    await unique('name', () => this.store.insert('variableSet', set));
    return set;
  }

  async listVariableSets(orgRef: string): Promise<VariableSetRecord[]> {
    const org = await this.getOrg(orgRef);
    return this.store.list('variableSet', { index: { name: 'org', value: org.id } });
  }

  async updateVariableSet(id: string, raw: unknown): Promise<VariableSetRecord> {
    const body = asBody(raw);
    onlyFields(body, ['name', 'global', 'workspaces']);
    const set = await this.store.get('variableSet', id);
    if (!set) throw new IssuerError('not_found', 'variableSet');
    const org = await this.getOrg(set.orgId);
    const next = { ...set };
    if (body.name !== undefined) next.name = checkName('name', body.name, NAME_RULES.variableSet);
    const global = optBool(body, 'global');
    if (global !== undefined) next.global = global;
    const workspaces = optStringArray(body, 'workspaces', 1000);
    if (workspaces !== undefined) next.workspaceIds = await this.workspaceIds(org, workspaces);
    await unique('name', () => this.store.update('variableSet', next));
    return next;
  }

  /** Environment variables in effect for a workspace (sensitive values included: server-side use only). */
  async effectiveVariables(ws: WorkspaceRecord): Promise<Map<string, VariableRecord>> {
    const sets = (await this.store.list('variableSet', { index: { name: 'org', value: ws.orgId } })).filter(
      (s) => setAppliesTo(s, ws.id),
    );
    const setVars: VariableRecord[] = [];
    for (const s of sets)
      setVars.push(...(await this.store.list('variable', { index: { name: 'owner', value: s.id } })));
    const own = await this.store.list('variable', { index: { name: 'owner', value: ws.id } });
    return effectiveVariables(setVars, own);
  }

  // Agent tokens ------------------------------------------------------------------------------

  async createAgentToken(
    orgRef: string,
    raw: unknown,
  ): Promise<{ agentToken: PublicAgentToken; token: string }> {
    const body = asBody(raw);
    onlyFields(body, ['description', 'workspaces']);
    const org = await this.getOrg(orgRef);
    const token = generateSecret(this.deps.random, AGENT_TOKEN_PREFIX);
    const record: AgentTokenRecord = {
      id: hcpId(this.deps.random, 'at'),
      orgId: org.id,
      description: optString(body, 'description', 256) ?? '',
      hash: hashSecret(token),
      workspaceIds: await this.workspaceIds(org, optStringArray(body, 'workspaces', 1000) ?? []),
      createdAt: this.now(),
    };
    await this.store.insert('agentToken', record);
    return { agentToken: publicAgentToken(record), token };
  }

  async listAgentTokens(orgRef: string): Promise<PublicAgentToken[]> {
    const org = await this.getOrg(orgRef);
    return (await this.store.list('agentToken', { index: { name: 'org', value: org.id } })).map(
      publicAgentToken,
    );
  }

  async revokeAgentToken(id: string): Promise<PublicAgentToken> {
    const t = await this.store.get('agentToken', id);
    if (!t) throw new IssuerError('not_found', 'agentToken');
    const next = t.revokedAt === undefined ? { ...t, revokedAt: this.now() } : t;
    if (next !== t) await this.store.update('agentToken', next);
    return publicAgentToken(next);
  }

  // Helpers ---------------------------------------------------------------------------------

  private async ownerOrg(ownerId: string): Promise<string> {
    if (ownerId.startsWith('ws-')) return (await this.getWorkspace(ownerId)).orgId;
    const set = ownerId.startsWith('varset-') ? await this.store.get('variableSet', ownerId) : undefined;
    if (!set) throw new IssuerError('not_found', 'owner');
    return set.orgId;
  }

  private async workspaceIds(org: OrganizationRecord, refs: readonly string[]): Promise<string[]> {
    const ids: string[] = [];
    for (const [i, ref] of refs.entries()) {
      const ws = await this.findWorkspace(org, ref).catch(() => {
        throw invalidField(`workspaces[${i}]`, 'no such workspace in this organization');
      });
      if (!ids.includes(ws.id)) ids.push(ws.id);
    }
    return ids;
  }

  /** After an organization or project change, every workspace must still have a valid `sub`. */
  private async checkSubjects(org: OrganizationRecord, project?: ProjectRecord): Promise<void> {
    const spaces = await this.store.list('workspace', { index: { name: 'org', value: org.id } });
    for (const ws of spaces) {
      if (project && ws.projectId !== project.id) continue;
      const p = project ?? (await this.store.get('project', ws.projectId));
      if (p) checkSubject(org, p, ws);
    }
  }
}

/** Reject names or templates that would give a `sub` AWS cannot return (over 255 characters). */
function checkSubject(org: OrganizationRecord, project: ProjectRecord, ws: WorkspaceRecord): void {
  const options = effectiveTokenOptions(org.tokenOptions, ws.tokenOptions);
  // 'apply' is the longer phase name.
  subjectFor(options.subTemplate, {
    organization: org,
    project,
    workspace: ws,
    runId: 'run-x',
    phase: 'apply',
  });
}
