// Running a test's world inside a network namespace that has only loopback (root: `unshare --net`),
// and what the clients' children run there are given.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runChild } from '../../helpers/child.js';

const root = new URL('../../..', import.meta.url).pathname;

/** Why this machine cannot make a loopback-only namespace, or undefined when it can. */
export function namespaceProblem(): string | undefined {
  const r = spawnSync('unshare', ['--net', '--mount', 'ip', 'link', 'set', 'lo', 'up'], { encoding: 'utf8' });
  if (r.error) return `unshare or ip is not available (${r.error.message})`;
  if (r.status !== 0)
    return `unshare --net --mount is not permitted here (needs root): ${r.stderr.trim().split('\n')[0]}`;
  return undefined;
}

/**
 * Runs `node --import tsx <world> <job.json> <report.json>` in a new network namespace with only
 * loopback up (and a mount namespace, with `hosts` bind-mounted on /etc/hosts when given), bounded by
 * `timeoutMs`; returns the report it wrote (also copied to `copyTo` when given), or throws with the
 * tail of its stderr or the error the report holds.
 */
export async function runWorld<Report extends { error?: string }>(o: {
  world: string;
  job: { work: string };
  timeoutMs: number;
  hosts?: string;
  copyTo?: string | undefined;
}): Promise<Report> {
  const jobFile = join(o.job.work, 'job.json');
  const reportFile = join(o.job.work, 'report.json');
  await writeFile(jobFile, JSON.stringify(o.job));
  const unshare = o.hosts ? ['unshare', '--net', '--mount'] : ['unshare', '--net'];
  const mount = o.hosts ? 'mount --bind "$1" /etc/hosts; ' : '';
  const r = await runChild(
    'timeout',
    [
      '-k',
      '10',
      String(Math.ceil(o.timeoutMs / 1000)),
      ...unshare,
      'sh',
      '-ec',
      `ip link set lo up; ${mount}exec "$2" --import tsx "$3" "$4" "$5"`,
      'sh',
      o.hosts ?? '',
      process.execPath,
      o.world,
      jobFile,
      reportFile,
    ],
    { env: { PATH: process.env.PATH ?? '', HOME: o.job.work, TMPDIR: o.job.work }, cwd: root },
  );
  if (!existsSync(reportFile))
    throw new Error(`the world wrote no report (exit ${r.status}): ${r.stderr.slice(-3000)}`);
  const report = JSON.parse(await readFile(reportFile, 'utf8')) as Report;
  if (o.copyTo) await writeFile(o.copyTo, JSON.stringify(report, null, 2));
  if (report.error !== undefined) throw new Error(`the world failed: ${report.error}`);
  return report;
}

/** The environment the clients' `gatepass run` starts with in a world: scratch home, Terraform's mirror. */
export const clientEnv = (work: string, terraformRc: string): Record<string, string> => ({
  PATH: process.env.PATH ?? '',
  HOME: work,
  TMPDIR: work,
  NO_COLOR: '1',
  NODE: process.execPath,
  AWS_PAGER: '',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  TF_CLI_CONFIG_FILE: terraformRc,
  TF_IN_AUTOMATION: '1',
  CHECKPOINT_DISABLE: '1',
});
