// `gatepass demo [--data-dir DIR] [--port N]`: the main job in one command (see src/cli/demo/demo.ts).
import { type Command, Option } from 'commander';
import { DemoError, runDemo } from '../demo/demo.js';
import { createOutput, UsageError } from '../lib/output.js';
import type { CommandModule } from './index.js';

interface DemoFlags {
  dataDir: string;
  port: string;
  terraformMirror?: string;
  terraform: boolean;
}

export const demoCommand: CommandModule = {
  register(program: Command) {
    program
      .command('demo')
      .description(
        'Run the whole flow on this machine: a node on SQLite with HTTPS, the hub-and-spoke setup, a workspace, and a plan and apply through gatepass run.',
      )
      .addOption(
        new Option('--data-dir <path>', 'data directory to create or reuse; serve it afterwards').default(
          '.gatepass-demo',
        ),
      )
      .addOption(
        new Option(
          '--port <port>',
          'HTTPS port on 127.0.0.1 (the issuer URL, so keep it for reruns)',
        ).default('8787'),
      )
      .option(
        '--terraform-mirror <dir>',
        "Terraform filesystem mirror holding hashicorp/aws (default: Terraform's local mirror directories)",
      )
      .option('--no-terraform', 'use the JS SDK script even when Terraform is available')
      .addHelpText(
        'after',
        '\nRerunning on the same data directory reuses everything it made. Terraform is used when it is on\n' +
          'PATH and a filesystem mirror has the AWS provider; otherwise a JS SDK script makes the same calls.\n',
      )
      .action(async (flags: DemoFlags) => {
        const port = /^\d+$/.test(flags.port) ? Number(flags.port) : Number.NaN;
        if (!(port >= 1 && port <= 65535))
          throw new UsageError('--port: expected an integer from 1 to 65535');
        const out = createOutput();
        try {
          await runDemo(
            {
              dataDir: flags.dataDir,
              port,
              ...(flags.terraformMirror !== undefined ? { terraformMirror: flags.terraformMirror } : {}),
              noTerraform: !flags.terraform,
              env: process.env,
            },
            out,
          );
        } catch (err) {
          if (!(err instanceof DemoError)) throw err;
          // runCli prints `error: <message>` and exits 1; the problems go on indented lines as usual.
          throw new Error([err.message, ...err.problems].join('\n  - '));
        }
      });
  },
};
