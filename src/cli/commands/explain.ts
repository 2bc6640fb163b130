// `gatepass explain <request-id>` and `gatepass explain --message <encoded>`: why a recorded request
// was allowed or denied (the deciding layer, every statement and condition with the presented and
// expected values, and a fix when one is obvious), from a running server or a data directory.
import type { Command } from 'commander';
import { Authorizer } from '../../cloud/authz/authorizer.js';
import { openAuthorizationMessage } from '../../cloud/authz/denial-message.js';
import { renderMessage, renderRequest } from '../../cloud/explain/render.js';
import {
  explainMessage,
  explainRequest,
  type MessageExplanation,
  type RequestExplanation,
} from '../../cloud/explain/request.js';
import { organizationModel } from '../../cloud/org/index.js';
import {
  ApiError,
  type ClientFlags,
  createClient,
  enc,
  outputOf,
  withClientOptions,
} from '../lib/issuer-client.js';
import { UsageError } from '../lib/output.js';
import type { CommandModule } from './index.js';
import { isLocal, type LocalFlags, withLocalOptions, withLocalStore } from './local-store.js';

type ExplainFlags = ClientFlags & LocalFlags & { message?: string; json?: boolean };

const NOT_FOUND = (id: string) => `no audit event for request ${id}`;

async function byRequest(flags: ExplainFlags, id: string): Promise<RequestExplanation> {
  if (isLocal(flags)) {
    const found = await withLocalStore(flags, ({ store }) =>
      explainRequest(store, new Authorizer(organizationModel), id),
    );
    if (!found) throw new Error(NOT_FOUND(id));
    return found;
  }
  try {
    return (await createClient(flags).call('GET', `/api/v1/explain/${enc(id)}`)) as RequestExplanation;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) throw new Error(NOT_FOUND(id));
    throw err;
  }
}

async function byMessage(flags: ExplainFlags, encoded: string): Promise<MessageExplanation> {
  if (isLocal(flags)) {
    return withLocalStore(flags, async (local) => {
      const opened = openAuthorizationMessage(await local.sealingKeys(), encoded);
      if (!opened) throw new Error('not an encoded authorization message of this installation');
      return explainMessage(local.store, new Authorizer(organizationModel), opened);
    });
  }
  return (await createClient(flags).call('POST', '/api/v1/explain/message', {
    message: encoded,
  })) as MessageExplanation;
}

export const explainCommand: CommandModule = {
  register(program: Command) {
    withLocalOptions(
      withClientOptions(
        program
          .command('explain [request-id]')
          .description(
            'Why a request was allowed or denied: the deciding layer, each statement and condition with presented and expected values, and a fix.',
          )
          .option(
            '--message <encoded>',
            'explain an encoded authorization message (from an AccessDenied error)',
          )
          .option('--json', 'print the explanation as JSON'),
      ),
    ).action(async (id: string | undefined, flags: ExplainFlags, c: Command) => {
      const out = outputOf(c);
      if ((id === undefined) === (flags.message === undefined))
        throw new UsageError('give a request id or --message <encoded>, not both');
      // An AccessDenied message may be pasted whole: take the encoded part.
      const encoded = flags.message?.replace(/^.*Encoded authorization failure message: /s, '').trim();
      const result =
        encoded !== undefined ? await byMessage(flags, encoded) : await byRequest(flags, id ?? '');
      if (flags.json) out.json(result);
      else {
        const lines = 'events' in result ? renderRequest(result) : renderMessage(result);
        for (const l of lines) out.line(l);
      }
    });
  },
};
