// Terraform with the AWS provider from the machine's filesystem mirror, run as a child process that
// never blocks this process's event loop (the server under test lives here).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { thumbprintOf } from '../../src/issuer/local-ca.js';
import { runChild } from './child.js';
import type { CloudFixture } from './cloud.js';

export const PROVIDER_MIRROR = '/opt/tf-plugins';

/** A Terraform CLI configuration (TF_CLI_CONFIG_FILE) that installs providers from the mirror only. */
export const MIRROR_RC = `provider_installation {\n  filesystem_mirror {\n    path = "${PROVIDER_MIRROR}"\n  }\n}\n`;

/**
 * The provider blocks of a configuration run by `gatepass run`: the default provider from the run's
 * environment, and the `member` alias from its file in tfc_aws_dynamic_credentials.
 */
export const GATEPASS_PROVIDERS_TF = `terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

variable "tfc_aws_dynamic_credentials" {
  type = object({
    default = object({ shared_config_file = string })
    aliases = map(object({ shared_config_file = string }))
  })
}

provider "aws" {}

provider "aws" {
  alias               = "member"
  shared_config_files = [var.tfc_aws_dynamic_credentials.aliases["member"].shared_config_file]
}
`;

export interface TerraformRun {
  status: number;
  out: string;
}

export type Terraform = (args: string[]) => Promise<TerraformRun>;

/**
 * A runner for the configuration in `dir`, with `home` for its CLI config (pointing at the mirror)
 * and the AWS credentials file the provider's profiles come from; `caBundle`: a CA the provider must
 * trust (an HTTPS node's local CA).
 */
export function terraformIn(
  dir: string,
  home: string,
  credentialsFile: string,
  caBundle?: string,
): Terraform {
  if (!existsSync(PROVIDER_MIRROR))
    throw new Error(`the Terraform AWS provider mirror is expected at ${PROVIDER_MIRROR}`);
  const rc = join(home, 'terraformrc');
  writeFileSync(rc, MIRROR_RC);
  return async (args) => {
    const r = await runChild('terraform', args, {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: home,
        TF_CLI_CONFIG_FILE: rc,
        TF_IN_AUTOMATION: '1',
        CHECKPOINT_DISABLE: '1',
        AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
        AWS_CONFIG_FILE: '/dev/null',
        AWS_EC2_METADATA_DISABLED: 'true',
        ...(caBundle ? { AWS_CA_BUNDLE: caBundle } : {}),
      },
    });
    return { status: r.status, out: r.stdout + r.stderr };
  };
}

/**
 * The variables the Terraform configurations take: gatepass's endpoint and the issuer it trusts (the
 * test identity provider, or with a TLS node its own issuer).
 */
export const cloudVars = (fx: CloudFixture): string[] => [
  '-input=false',
  '-no-color',
  '-var',
  `endpoint=${fx.url}`,
  '-var',
  `issuer_url=${fx.caFile ? fx.url : fx.idp.issuer}`,
  '-var',
  `issuer_thumbprint=${fx.caFile ? thumbprintOf(readFileSync(fx.caFile, 'utf8')) : fx.pki.caThumbprint}`,
];
