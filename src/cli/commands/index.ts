// Every CLI command module, in the order they appear in `gatepass --help`. Append new modules here,
// one import per line.
import type { Command } from 'commander';
import { agentTokenCommand } from './agent-token.js';
import { applyCommand } from './apply.js';
import { auditCommand } from './audit.js';
import { demoCommand } from './demo.js';
import { discoveryCommand } from './discovery.js';
import { explainCommand } from './explain.js';
import { keysCommand } from './keys.js';
import { lintCommand } from './lint.js';
import { orgCommand } from './org.js';
import { projectCommand } from './project.js';
import { revokeCommand } from './revoke.js';
import { runCommand } from './run.js';
import { serveCommand } from './serve.js';
import { simulateCommand } from './simulate.js';
import { tokenCommand } from './token.js';
import { varCommand } from './var.js';
import { workspaceCommand } from './workspace.js';

export interface CommandModule {
  register(program: Command): void;
}

export const commands: readonly CommandModule[] = [
  serveCommand,
  applyCommand,
  orgCommand,
  projectCommand,
  workspaceCommand,
  varCommand,
  agentTokenCommand,
  keysCommand,
  tokenCommand,
  discoveryCommand,
  runCommand,
  demoCommand,
  explainCommand,
  simulateCommand,
  lintCommand,
  auditCommand,
  revokeCommand,
];
