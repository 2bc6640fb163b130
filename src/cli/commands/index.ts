// Every CLI command, in the order they appear in `gatepass --help`. Modules load on demand: a
// command imports only its own module graph (the server, the store engines, YAML, metrics are
// hundreds of modules), so `gatepass run` and `gatepass --version` start as fast as Node can.
// Append new commands here; `names` are the commands the module registers (a test checks them).
import type { Command } from 'commander';

export interface CommandModule {
  register(program: Command): void;
}

export interface CommandEntry {
  /** The top-level commands the module registers. */
  names: readonly string[];
  load(): Promise<CommandModule>;
}

export const commands: readonly CommandEntry[] = [
  { names: ['serve'], load: async () => (await import('./serve.js')).serveCommand },
  { names: ['apply'], load: async () => (await import('./apply.js')).applyCommand },
  { names: ['org'], load: async () => (await import('./org.js')).orgCommand },
  { names: ['project'], load: async () => (await import('./project.js')).projectCommand },
  { names: ['workspace'], load: async () => (await import('./workspace.js')).workspaceCommand },
  { names: ['var', 'varset'], load: async () => (await import('./var.js')).varCommand },
  { names: ['agent-token'], load: async () => (await import('./agent-token.js')).agentTokenCommand },
  { names: ['keys'], load: async () => (await import('./keys.js')).keysCommand },
  { names: ['token'], load: async () => (await import('./token.js')).tokenCommand },
  { names: ['discovery'], load: async () => (await import('./discovery.js')).discoveryCommand },
  { names: ['run'], load: async () => (await import('./run.js')).runCommand },
  { names: ['demo'], load: async () => (await import('./demo.js')).demoCommand },
  { names: ['explain'], load: async () => (await import('./explain.js')).explainCommand },
  { names: ['simulate'], load: async () => (await import('./simulate.js')).simulateCommand },
  { names: ['lint'], load: async () => (await import('./lint.js')).lintCommand },
  { names: ['audit'], load: async () => (await import('./audit.js')).auditCommand },
  { names: ['revoke'], load: async () => (await import('./revoke.js')).revokeCommand },
  { names: ['reach'], load: async () => (await import('./reach.js')).reachCommand },
];

/** The named command's module alone, or every module (help, an unknown name, no command). */
export async function loadCommands(name?: string): Promise<CommandModule[]> {
  const one = name === undefined ? undefined : commands.find((c) => c.names.includes(name));
  return Promise.all((one ? [one] : commands).map((c) => c.load()));
}
