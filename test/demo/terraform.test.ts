// How the demo decides to use Terraform: a `terraform` executable on PATH and a filesystem mirror
// holding hashicorp/aws for this platform (unpacked or packed), else the JS SDK with the reason.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { chooseTerraform, cliConfig, mirrorHasAws, terraformPlatform } from '../../src/cli/demo/terraform.js';

const root = mkdtempSync(join(tmpdir(), 'gatepass-demo-tf-'));
after(() => rmSync(root, { recursive: true, force: true }));

const bin = join(root, 'bin');
mkdirSync(bin);
writeFileSync(join(bin, 'terraform'), '#!/bin/sh\n');
chmodSync(join(bin, 'terraform'), 0o755);

function mirror(name: string, entry: (base: string) => void): string {
  const dir = join(root, name);
  const base = join(dir, 'registry.terraform.io', 'hashicorp', 'aws');
  mkdirSync(base, { recursive: true });
  entry(base);
  return dir;
}

const unpacked = mirror('unpacked', (b) =>
  mkdirSync(join(b, '5.100.0', terraformPlatform()), { recursive: true }),
);
const packed = mirror('packed', (b) =>
  writeFileSync(join(b, `terraform-provider-aws_5.100.0_${terraformPlatform()}.zip`), ''),
);
const otherPlatform = mirror('other', (b) =>
  mkdirSync(join(b, '5.100.0', 'plan9_mips'), { recursive: true }),
);

test('a mirror counts only when it holds hashicorp/aws for this platform, unpacked or packed', () => {
  assert.equal(mirrorHasAws(unpacked), true);
  assert.equal(mirrorHasAws(packed), true);
  assert.equal(mirrorHasAws(otherPlatform), false);
  assert.equal(mirrorHasAws(join(root, 'missing')), false);
});

test('Terraform is used with terraform on PATH and a mirror; otherwise the reason is given', () => {
  const env = { PATH: bin, HOME: join(root, 'home') };
  assert.deepEqual(chooseTerraform(env, { mirror: unpacked }), {
    use: { binary: join(bin, 'terraform'), mirror: unpacked },
  });
  assert.deepEqual(chooseTerraform(env, { mirror: unpacked, disabled: true }), {
    skip: '--no-terraform was given',
  });
  assert.deepEqual(chooseTerraform({ PATH: join(root, 'nothing') }, { mirror: unpacked }), {
    skip: 'terraform is not on PATH',
  });
  const other = chooseTerraform(env, { mirror: otherPlatform });
  assert.ok('skip' in other && other.skip.includes(`no hashicorp/aws provider for ${terraformPlatform()}`));
});

test("without --terraform-mirror, Terraform's implied local mirror directories are searched", () => {
  const home = join(root, 'home2');
  mirror(join('home2', '.terraform.d', 'plugins'), (b) =>
    mkdirSync(join(b, '5.0.0', terraformPlatform()), { recursive: true }),
  );
  const found = chooseTerraform({ PATH: bin, HOME: home }, {});
  assert.deepEqual(found, {
    use: { binary: join(bin, 'terraform'), mirror: join(home, '.terraform.d', 'plugins') },
  });
});

test('the CLI configuration names the mirror as a quoted HCL string', () => {
  assert.equal(
    cliConfig('/opt/my "mirror"'),
    'provider_installation {\n  filesystem_mirror {\n    path = "/opt/my \\"mirror\\""\n  }\n}\n',
  );
});
