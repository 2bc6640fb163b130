// Shared by the explain tests: the real CLI in-process, golden-file comparison, and normalising
// what differs between runs (organization ids, request ids, times, loopback ports).
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { runCli } from '../../src/cli/program.js';

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cli(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  let stdout = '';
  let stderr = '';
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const code = await runCli(['node', 'gatepass', ...args], {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      env: { NO_COLOR: '1' },
    });
    return { code, stdout, stderr };
  } finally {
    for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

/** Ids and times that are random or per-run become fixed placeholders. */
export function normalise(text: string): string {
  return text
    .replace(/\bou-[a-z0-9]{4}-[a-z0-9]{8}\b/g, 'ou-XXXX-XXXXXXXX')
    .replace(/\br-[a-z0-9]{4}\b/g, 'r-XXXX')
    .replace(/\bp-[a-z0-9]{8}\b/g, 'p-XXXXXXXX')
    .replace(/\bo-[a-z0-9]{10}\b/g, 'o-XXXXXXXXXX');
}

export async function golden(path: string, actual: string): Promise<void> {
  if (process.env.GATEPASS_UPDATE_GOLDEN === '1') {
    await writeFile(path, actual);
    return;
  }
  let expected: string;
  try {
    expected = await readFile(path, 'utf8');
  } catch {
    assert.fail(`golden file ${path} is missing (run with GATEPASS_UPDATE_GOLDEN=1 to record it)`);
  }
  assert.equal(actual, expected);
}
