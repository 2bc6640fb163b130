// `gatepass lint [setup.yaml | policy.json] [--account ID]`: trust-policy findings (unpinned `sub`,
// org prefixes without their colon, vacuous set operators, claims the issuer never emits, …) and the
// traps of any policy (comma-separated actions, Allow with NotPrincipal, …) with file, line and
// statement, like a compiler; exit 1 when a finding reaches --fail-on (CI gate).
import { readFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import {
  type LocatedFinding,
  lintAccount,
  lintPolicyText,
  lintSetupText,
  SEVERITY_RANK,
} from '../../cloud/explain/lint-files.js';
import { SetupError } from '../../cloud/setup/schema.js';
import { isAccountId } from '../../core/ids.js';
import { CLAIMS_SUPPORTED } from '../../issuer/claims.js';
import {
  type ClientFlags,
  createClient,
  enc,
  itemsOf,
  outputOf,
  withClientOptions,
} from '../lib/issuer-client.js';
import { EXIT, QuietExit, UsageError } from '../lib/output.js';
import type { CommandModule } from './index.js';
import { isLocal, type LocalFlags, withLocalOptions, withLocalStore } from './local-store.js';

type LintFlags = ClientFlags &
  LocalFlags & { account?: string; failOn: string; json?: boolean; target?: 'aws' | 'gatepass' };

/** Claims gatepass's issuer emits (HCP's set); the claim-key check knows them. */
const CLAIMS = CLAIMS_SUPPORTED.filter((c) => !c.startsWith('https://'));

/** A bare policy document has a Statement at the top; anything else is a setup file. */
function isPolicyDocument(text: string): boolean {
  try {
    const v: unknown = JSON.parse(text);
    return !!v && typeof v === 'object' && 'Statement' in v;
  } catch {
    return false;
  }
}

async function lintFile(file: string, target: 'aws' | 'gatepass'): Promise<LocatedFinding[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UsageError(`cannot read ${file}`);
  }
  if (isPolicyDocument(text)) return lintPolicyText(text, file, { claims: CLAIMS, target });
  try {
    return lintSetupText(text, file, process.env, { claims: CLAIMS, target });
  } catch (err) {
    if (err instanceof SetupError) throw new UsageError(`invalid setup file ${file}`, err.lines());
    throw err;
  }
}

export function findingLine(f: LocatedFinding): string {
  const where = `${f.file}${f.line !== undefined ? `:${f.line}` : ''}`;
  const what = [f.role, f.statement >= 0 ? `statement ${f.sid ?? `#${f.statement}`}` : undefined]
    .filter(Boolean)
    .join(', ');
  return `${where}: ${f.severity} ${f.rule}: ${f.message}${what ? ` (${what})` : ''}`;
}

export const lintCommand: CommandModule = {
  register(program: Command) {
    withLocalOptions(
      withClientOptions(
        program
          .command('lint [file]')
          .description(
            'Lint the policies of a setup file, a policy document or an account (--account); exit 1 on findings at --fail-on or above.',
          )
          .option(
            '--account <id>',
            'lint every role and policy of this account (running server, or --data-dir)',
          )
          .addOption(
            new Option(
              '--target <cloud>',
              'where the trust policies are evaluated: aws warns on condition keys AWS ignores for the provider (default for files), gatepass evaluates every claim (default for --account)',
            ).choices(['aws', 'gatepass']),
          )
          .option('--fail-on <severity>', 'error, warning or info', 'error')
          .option('--json', 'one JSON finding per line'),
      ),
    ).action(async (file: string | undefined, flags: LintFlags, c: Command) => {
      const out = outputOf(c);
      if ((file === undefined) === (flags.account === undefined))
        throw new UsageError('give a file or --account ID');
      const threshold = SEVERITY_RANK[flags.failOn as keyof typeof SEVERITY_RANK];
      if (threshold === undefined) throw new UsageError('--fail-on: error, warning or info');
      let findings: LocatedFinding[];
      if (file !== undefined) findings = await lintFile(file, flags.target ?? 'aws');
      else {
        const target = flags.target ?? 'gatepass';
        const account = flags.account ?? '';
        if (!isAccountId(account)) throw new UsageError('--account: expected a 12-digit account id');
        findings = isLocal(flags)
          ? await withLocalStore(flags, async ({ store }) => {
              if (!(await store.get('account', account))) throw new UsageError(`no account ${account}`);
              const organizations = (await store.list('organization')).map((o) => o.name);
              return lintAccount(store, account, { claims: CLAIMS, organizations, target });
            })
          : (itemsOf(
              await createClient(flags).call('GET', `/api/v1/lint?account=${enc(account)}&target=${target}`),
            ) as unknown as LocatedFinding[]);
      }
      if (flags.json) for (const f of findings) out.json(f);
      else {
        for (const f of findings) out.line(findingLine(f));
        const count = (s: string) => findings.filter((f) => f.severity === s).length;
        out.line(`${count('error')} errors, ${count('warning')} warnings, ${count('info')} notes`);
      }
      if (findings.some((f) => SEVERITY_RANK[f.severity] >= threshold)) throw new QuietExit(EXIT.failure);
    });
  },
};
