// IAM OIDC identity providers: the registration STS trusts. Rules and limits of spec-notes §3.2.
import { oidcProviderArn, parseArn } from '../../core/arn.js';
import { defineAction, type QueryAction } from '../../core/query/dispatch.js';
import { awsError } from '../../core/query/errors.js';
import type { FormReader } from '../../core/query/parse-form.js';
import type { OidcProviderRecord } from '../../store/records/iam.js';
import type { StoreOps } from '../../store/types.js';
import type { Caller } from '../caller/caller.js';
import {
  ARN,
  accountOf,
  type Ctx,
  checkNewTags,
  type IamDeps,
  iamCall,
  mergeTagList,
  readPage,
  readTags,
  tagPage,
  tagsXml,
} from './common.js';

const MAX_PROVIDERS = 100;
const MAX_CLIENT_IDS = 100;
const MAX_THUMBPRINTS = 5;
const CLIENT_ID = { min: 1, max: 255 };
const THUMBPRINT = { min: 40, max: 40, pattern: { re: /^[0-9A-Fa-f]{40}$/, text: '[0-9a-fA-F]{40}' } };

/** AWS: https only, no query or fragment; a port is allowed by the API but discouraged. */
function checkUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw awsError('invalidUrl');
  }
  if (parsed.protocol !== 'https:') throw awsError('urlNotHttps');
  if (parsed.search || parsed.hash || parsed.username || parsed.password) {
    throw awsError('urlHasExtras');
  }
  return url;
}

/**
 * AWS returns the Url without its scheme. An issuer with a port (never the case on AWS, usual for a
 * self-hosted one) keeps the scheme: `host:port/…` is not a parseable URL, and Terraform's AWS
 * provider would then see a perpetual difference and replace the provider on every plan.
 */
export function displayUrl(url: string): string {
  return /^https:\/\/[^/]*:\d+(\/|$)/.test(url) ? url : url.replace(/^https:\/\//, '');
}

async function findProvider(tx: StoreOps, ctx: Ctx, arn: string): Promise<OidcProviderRecord> {
  const provider = await tx.get('oidcProvider', arn);
  if (!provider || provider.accountId !== accountOf(ctx) || parseArn(arn)?.account !== accountOf(ctx)) {
    throw awsError('providerNotFound', arn);
  }
  return provider;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

const providerArnInput = (p: FormReader) => ({ arn: p.str('OpenIDConnectProviderArn', ARN) });

export function providerActions(deps: IamDeps): QueryAction<Caller>[] {
  const write = <T>(
    ctx: Ctx,
    action: string,
    resource: string,
    fn: (tx: StoreOps) => Promise<T>,
  ): Promise<T> => iamCall(deps, ctx, action, resource, fn);
  const read = <T>(
    ctx: Ctx,
    action: string,
    resource: string,
    fn: (tx: StoreOps) => Promise<T>,
  ): Promise<T> => iamCall(deps, ctx, action, resource, fn, false);

  return [
    defineAction({
      service: 'iam',
      name: 'CreateOpenIDConnectProvider',
      auth: 'sigv4',
      input: (p) => ({
        url: p.str('Url', { required: true, min: 1, max: 255 }),
        clientIds: p.list('ClientIDList', { maxItems: MAX_CLIENT_IDS, ...CLIENT_ID }) ?? [],
        thumbprints: p.list('ThumbprintList', { maxItems: MAX_THUMBPRINTS, ...THUMBPRINT }) ?? [],
        tags: readTags(p),
      }),
      handler: async (input, ctx) => {
        const url = checkUrl(input.url);
        const account = accountOf(ctx);
        const arn = oidcProviderArn(account, url);
        const tags = checkNewTags(input.tags);
        await write(ctx, 'iam:CreateOpenIDConnectProvider', arn, async (tx) => {
          if (
            (await tx.count('oidcProvider', { index: { name: 'account', value: account } })) >= MAX_PROVIDERS
          ) {
            throw awsError('quotaExceeded', 'OpenIdConnectProvidersPerAccount', MAX_PROVIDERS);
          }
          if (await tx.get('oidcProvider', arn)) throw awsError('providerExists', url);
          await tx.insert('oidcProvider', {
            id: arn,
            accountId: account,
            url,
            clientIds: unique(input.clientIds),
            thumbprints: unique(input.thumbprints.map((t) => t.toLowerCase())),
            tags,
            createdAt: deps.clock.now(),
          });
        });
        return { OpenIDConnectProviderArn: arn, Tags: tags.length ? tagsXml(tags) : undefined };
      },
    }),
    defineAction({
      service: 'iam',
      name: 'GetOpenIDConnectProvider',
      auth: 'sigv4',
      input: providerArnInput,
      handler: async ({ arn }, ctx) => {
        const p = await read(ctx, 'iam:GetOpenIDConnectProvider', arn, (tx) => findProvider(tx, ctx, arn));
        return {
          Url: displayUrl(p.url),
          ClientIDList: p.clientIds,
          ThumbprintList: p.thumbprints,
          CreateDate: new Date(p.createdAt),
          Tags: tagsXml(p.tags),
        };
      },
    }),
    defineAction({
      service: 'iam',
      name: 'ListOpenIDConnectProviders',
      auth: 'sigv4',
      input: () => ({}),
      handler: async (_input, ctx) => {
        const account = accountOf(ctx);
        const list = await read(ctx, 'iam:ListOpenIDConnectProviders', '*', (tx) =>
          tx.list('oidcProvider', { index: { name: 'account', value: account } }),
        );
        return { OpenIDConnectProviderList: list.map((p) => ({ Arn: p.id })) };
      },
    }),
    defineAction({
      service: 'iam',
      name: 'DeleteOpenIDConnectProvider',
      auth: 'sigv4',
      input: providerArnInput,
      handler: async ({ arn }, ctx) => {
        await write(ctx, 'iam:DeleteOpenIDConnectProvider', arn, async (tx) => {
          await findProvider(tx, ctx, arn);
          await tx.delete('oidcProvider', arn);
        });
        return undefined;
      },
    }),
    defineAction({
      service: 'iam',
      name: 'AddClientIDToOpenIDConnectProvider',
      auth: 'sigv4',
      input: (p) => ({
        ...providerArnInput(p),
        clientId: p.str('ClientID', { required: true, ...CLIENT_ID }),
      }),
      handler: async ({ arn, clientId }, ctx) => {
        await write(ctx, 'iam:AddClientIDToOpenIDConnectProvider', arn, async (tx) => {
          const p = await findProvider(tx, ctx, arn);
          if (p.clientIds.includes(clientId)) return;
          if (p.clientIds.length >= MAX_CLIENT_IDS) {
            throw awsError('quotaExceeded', 'ClientIdsPerOpenIdConnectProvider', MAX_CLIENT_IDS);
          }
          await tx.update('oidcProvider', { ...p, clientIds: [...p.clientIds, clientId] });
        });
        return undefined;
      },
    }),
    defineAction({
      service: 'iam',
      name: 'RemoveClientIDFromOpenIDConnectProvider',
      auth: 'sigv4',
      input: (p) => ({
        ...providerArnInput(p),
        clientId: p.str('ClientID', { required: true, ...CLIENT_ID }),
      }),
      handler: async ({ arn, clientId }, ctx) => {
        await write(ctx, 'iam:RemoveClientIDFromOpenIDConnectProvider', arn, async (tx) => {
          const p = await findProvider(tx, ctx, arn);
          await tx.update('oidcProvider', { ...p, clientIds: p.clientIds.filter((c) => c !== clientId) });
        });
        return undefined;
      },
    }),
    defineAction({
      service: 'iam',
      name: 'UpdateOpenIDConnectProviderThumbprint',
      auth: 'sigv4',
      input: (p) => ({
        ...providerArnInput(p),
        thumbprints:
          p.list('ThumbprintList', { required: true, maxItems: MAX_THUMBPRINTS, ...THUMBPRINT }) ?? [],
      }),
      handler: async ({ arn, thumbprints }, ctx) => {
        await write(ctx, 'iam:UpdateOpenIDConnectProviderThumbprint', arn, async (tx) => {
          const p = await findProvider(tx, ctx, arn);
          await tx.update('oidcProvider', {
            ...p,
            thumbprints: unique(thumbprints.map((t) => t.toLowerCase())),
          });
        });
        return undefined;
      },
    }),
    defineAction({
      service: 'iam',
      name: 'TagOpenIDConnectProvider',
      auth: 'sigv4',
      input: (p) => ({ ...providerArnInput(p), tags: readTags(p) ?? [] }),
      handler: async ({ arn, tags }, ctx) => {
        await write(ctx, 'iam:TagOpenIDConnectProvider', arn, async (tx) => {
          const p = await findProvider(tx, ctx, arn);
          await tx.update('oidcProvider', { ...p, tags: mergeTagList(p.tags, tags) });
        });
        return undefined;
      },
    }),
    defineAction({
      service: 'iam',
      name: 'UntagOpenIDConnectProvider',
      auth: 'sigv4',
      input: (p) => ({
        ...providerArnInput(p),
        keys: p.list('TagKeys', { required: true, maxItems: 50, min: 1, max: 128 }) ?? [],
      }),
      handler: async ({ arn, keys }, ctx) => {
        await write(ctx, 'iam:UntagOpenIDConnectProvider', arn, async (tx) => {
          const p = await findProvider(tx, ctx, arn);
          await tx.update('oidcProvider', { ...p, tags: p.tags.filter((t) => !keys.includes(t.Key)) });
        });
        return undefined;
      },
    }),
    defineAction({
      service: 'iam',
      name: 'ListOpenIDConnectProviderTags',
      auth: 'sigv4',
      input: (p) => ({ ...providerArnInput(p), page: readPage(p) }),
      handler: async ({ arn, page }, ctx) => {
        const p = await read(ctx, 'iam:ListOpenIDConnectProviderTags', arn, (tx) =>
          findProvider(tx, ctx, arn),
        );
        return tagPage(p.tags, page);
      },
    }),
  ];
}
