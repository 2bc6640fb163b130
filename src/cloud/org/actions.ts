// Every Organizations operation, for the JSON protocol's registry.
import type { JsonOperation } from '../../core/json/index.js';
import type { Caller } from '../caller/caller.js';
import type { OrgDeps } from './call.js';
import { policyActions } from './policies.js';
import { readActions } from './reads.js';
import { resourcePolicyActions } from './resource-policy.js';
import { writeActions } from './writes.js';

export type { OrgDeps } from './call.js';

export const organizationsActions = (deps: OrgDeps): JsonOperation<Caller>[] => [
  ...readActions(deps),
  ...writeActions(deps),
  ...policyActions(deps),
  ...resourcePolicyActions(deps),
];
