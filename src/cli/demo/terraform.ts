// Finding Terraform and an AWS provider it can install without the network, for the demo. Terraform
// is used only when both are on this machine: downloading the provider (hundreds of MB) is not
// something a first run should do behind the user's back.
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface TerraformSetup {
  binary: string;
  /** A filesystem mirror holding registry.terraform.io/hashicorp/aws for this platform. */
  mirror: string;
}

/** Terraform's implied local mirror directories (see its CLI configuration docs), plus /opt/tf-plugins. */
export function mirrorCandidates(env: Readonly<Record<string, string | undefined>>): string[] {
  const home = env.HOME ?? homedir();
  const xdg = env.XDG_DATA_HOME ?? join(home, '.local', 'share');
  return [
    join(home, '.terraform.d', 'plugins'),
    join(xdg, 'terraform', 'plugins'),
    '/usr/local/share/terraform/plugins',
    '/usr/share/terraform/plugins',
    // Where container images (this project's CI image among them) bake a mirror.
    '/opt/tf-plugins',
  ];
}

/** Terraform's name for this platform, e.g. linux_amd64. */
export function terraformPlatform(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch === 'ia32' ? '386' : process.arch;
  return `${process.platform}_${arch}`;
}

/** Whether `dir` mirrors hashicorp/aws for this platform, unpacked or packed. */
export function mirrorHasAws(dir: string): boolean {
  const base = join(dir, 'registry.terraform.io', 'hashicorp', 'aws');
  if (!existsSync(base)) return false;
  const platform = terraformPlatform();
  for (const entry of readdirSync(base)) {
    if (existsSync(join(base, entry, platform))) return true;
    if (entry.startsWith('terraform-provider-aws_') && entry.endsWith(`_${platform}.zip`)) return true;
  }
  return false;
}

export function findOnPath(
  name: string,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

export type TerraformChoice = { use: TerraformSetup } | { skip: string };

/** Terraform plus a mirror (the given one, else the first candidate that has the AWS provider). */
export function chooseTerraform(
  env: Readonly<Record<string, string | undefined>>,
  options: { mirror?: string; disabled?: boolean },
): TerraformChoice {
  if (options.disabled) return { skip: '--no-terraform was given' };
  const binary = findOnPath('terraform', env);
  if (binary === undefined) return { skip: 'terraform is not on PATH' };
  const candidates = options.mirror !== undefined ? [options.mirror] : mirrorCandidates(env);
  const mirror = candidates.find(mirrorHasAws);
  if (mirror === undefined) {
    return {
      skip:
        options.mirror !== undefined
          ? `${options.mirror} holds no hashicorp/aws provider for ${terraformPlatform()}`
          : `no filesystem mirror with the hashicorp/aws provider (give one with --terraform-mirror)`,
    };
  }
  return { use: { binary, mirror } };
}

/** A Terraform CLI configuration that installs providers from the mirror only. */
export function cliConfig(mirror: string): string {
  return `provider_installation {\n  filesystem_mirror {\n    path = ${JSON.stringify(mirror)}\n  }\n}\n`;
}
