// The two Organizations calls the deny-list writer makes (DescribePolicy, UpdatePolicy): AWS JSON 1.1
// over node:http/https, SigV4 with service `organizations` (a global service, signed for us-east-1).
import type { Clock } from '../core/deps.js';
import { type HttpOptions, send } from './http-client.js';
import { type SigningCredentials, signRequest } from './sigv4-sign.js';

export const AWS_ORGANIZATIONS_ENDPOINT = 'https://organizations.us-east-1.amazonaws.com';
const TARGET = 'AWSOrganizationsV20161128';

/** An Organizations error response (type and message as AWS sent them). */
export class OrgError extends Error {
  override readonly name = 'OrgError';
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface OrgClientOptions {
  endpoint?: string;
  credentials: SigningCredentials;
  clock: Clock;
  http?: HttpOptions;
}

export class OrganizationsClient {
  private readonly endpoint: URL;

  constructor(private readonly options: OrgClientOptions) {
    this.endpoint = new URL(options.endpoint ?? AWS_ORGANIZATIONS_ENDPOINT);
  }

  async describePolicy(policyId: string): Promise<string> {
    const out = await this.call('DescribePolicy', { PolicyId: policyId });
    const content = (out.Policy as { Content?: unknown } | undefined)?.Content;
    if (typeof content !== 'string')
      throw new OrgError('MalformedResponse', 0, 'DescribePolicy had no Content');
    return content;
  }

  async updatePolicy(policyId: string, content: string): Promise<void> {
    await this.call('UpdatePolicy', { PolicyId: policyId, Content: content });
  }

  private async call(operation: string, input: Record<string, string>): Promise<Record<string, unknown>> {
    const body = JSON.stringify(input);
    const headers = signRequest({
      method: 'POST',
      url: this.endpoint,
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `${TARGET}.${operation}`,
        'content-length': String(Buffer.byteLength(body)),
        'user-agent': 'gatepass-agent',
      },
      body,
      credentials: this.options.credentials,
      region: 'us-east-1',
      service: 'organizations',
      now: this.options.clock.now(),
    });
    const res = await send(this.endpoint, { method: 'POST', headers, body }, this.options.http);
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(res.body.toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      // Not JSON (a proxy's page): reported by status below.
    }
    if (res.status >= 200 && res.status < 300) return json;
    const type = typeof json.__type === 'string' ? (json.__type.split('#').pop() ?? json.__type) : '';
    const message =
      typeof json.Message === 'string' ? json.Message : typeof json.message === 'string' ? json.message : '';
    throw new OrgError(type || `HTTP${res.status}`, res.status, message.slice(0, 500));
  }
}
