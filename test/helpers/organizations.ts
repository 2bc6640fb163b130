// One signed JSON 1.1 call to a node's Organizations API (the SDK's signer; no Organizations client
// is needed), answering the status, the JSON body and the request id.
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Keys } from './cloud.js';

export interface OrganizationsAnswer {
  status: number;
  json: Record<string, unknown>;
  requestId: string;
}

export async function organizationsCall(
  endpoint: string,
  keys: Keys,
  operation: string,
  body: Record<string, unknown>,
): Promise<OrganizationsAnswer> {
  const url = new URL(endpoint);
  const signer = new SignatureV4({
    service: 'organizations',
    region: 'us-east-1',
    sha256: Sha256,
    credentials: {
      accessKeyId: keys.accessKeyId,
      secretAccessKey: keys.secretAccessKey,
      ...(keys.sessionToken ? { sessionToken: keys.sessionToken } : {}),
    },
  });
  const request = await signer.sign(
    new HttpRequest({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: '/',
      headers: {
        host: url.host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `AWSOrganizationsV20161128.${operation}`,
      },
      body: JSON.stringify(body),
    }),
  );
  const r = await fetch(endpoint, { method: 'POST', headers: request.headers, body: request.body as string });
  return {
    status: r.status,
    json: (await r.json()) as Record<string, unknown>,
    requestId: r.headers.get('x-amzn-requestid') ?? '',
  };
}

/** A call that must succeed: its JSON answer. */
export async function organizationsOk(
  endpoint: string,
  keys: Keys,
  operation: string,
  body: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const r = await organizationsCall(endpoint, keys, operation, body);
  if (r.status !== 200) throw new Error(`${operation} → ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}
