// `gatepass discovery export DIR`: write the issuer's OIDC discovery document and JWKS as static
// files (DIR/.well-known/openid-configuration and DIR/.well-known/jwks), so a private issuer can be
// trusted by AWS through any static HTTPS host. Re-export after every key rotation and trim.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { type ClientFlags, createClient, field, outputOf, withClientOptions } from '../lib/issuer-client.js';
import type { CommandModule } from './index.js';

export const discoveryCommand: CommandModule = {
  register(program: Command) {
    const discovery = program.command('discovery').description('OIDC discovery documents.');
    withClientOptions(
      discovery.command('export <dir>').description('Write discovery + JWKS for static hosting.'),
    ).action(async (dir: string, flags: ClientFlags, cmd: Command) => {
      const client = createClient(flags);
      const config = await client.get('/.well-known/openid-configuration');
      const jwks = await client.get('/.well-known/jwks');
      const wellKnown = join(dir, '.well-known');
      mkdirSync(wellKnown, { recursive: true });
      const files = { discovery: join(wellKnown, 'openid-configuration'), jwks: join(wellKnown, 'jwks') };
      writeFileSync(files.discovery, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o644 });
      writeFileSync(files.jwks, `${JSON.stringify(jwks, null, 2)}\n`, { mode: 0o644 });
      const out = outputOf(cmd);
      out.line(files.discovery);
      out.line(files.jwks);
      const issuer = String(field(config, 'issuer'));
      if (!issuer.startsWith('https://'))
        out.warn(`issuer ${issuer} is not https: AWS IAM only trusts https issuers`);
      out.success(
        `serve ${dir} at ${issuer}/ (content-type application/json); re-export after keys rotate or trim`,
      );
    });
  },
};
