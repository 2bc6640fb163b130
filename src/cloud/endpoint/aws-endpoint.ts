// The AWS endpoint (STS, IAM and Organizations share it): reads the request within the body limit,
// authenticates SigV4 against sealed session tokens or long-term keys, and dispatches by protocol:
// X-Amz-Target / the JSON content type to the JSON 1.1 protocol, everything else by Action.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Random } from '../../core/deps.js';
import { JsonError } from '../../core/json/errors.js';
import {
  handleJsonRequest,
  isJsonProtocol,
  type JsonRegistry,
  jsonErrorResponse,
} from '../../core/json/index.js';
import {
  errorResponse,
  handleQueryRequest,
  type QueryHttpRequest,
  type QueryRegistry,
  type QueryService,
} from '../../core/query/dispatch.js';
import { AwsError } from '../../core/query/errors.js';
import { sigV4Error } from '../../core/query/sigv4-errors.js';
import { type SecretLookup, SigningKeyCache, SigV4Failure, verifySigV4 } from '../../core/sigv4/index.js';
import { BodyTooLargeError, type Handler, type RequestContext, readBody } from '../../http/transport.js';
import { isStoreUnavailable } from '../../store/unavailable.js';
import type { Caller } from '../caller/caller.js';
import { presentedCaller, presentedKeyId, refuse } from '../caller/refusal.js';
import { AWS_REGIONS } from './regions.js';

export interface EndpointDeps {
  registry: QueryRegistry<Caller>;
  /** JSON 1.1 operations (Organizations). */
  jsonRegistry?: JsonRegistry<Caller>;
  random: Random;
  now: () => number;
  bodyLimitBytes: number;
  /** Resolve a verified access key to its caller; throws a refusal (AwsError) for unknown, expired or revoked keys. */
  resolve: (
    accessKeyId: string,
    sessionToken: string | undefined,
  ) => Promise<{ caller: Caller; secret: string }>;
  onError?: (info: RefusalInfo) => void;
}

/** A refused or failed request, for the operator's log and the audit trail (never sent to the client). */
export interface RefusalInfo {
  requestId: string;
  action?: string;
  error: unknown;
  sourceIp: string;
  userAgent?: string;
  /** Set when the signature verified before the request was refused. */
  caller?: Caller;
}

/** `POST /` and `GET /?Action=…` are the AWS endpoint; everything else belongs to other routes. */
export function isAwsRequest(pathname: string, method: string, rawQuery: string): boolean {
  if (pathname !== '/') return false;
  return method === 'POST' || (method === 'GET' && /(^|&)Action=/.test(rawQuery));
}

/**
 * The metrics label of an AWS call, from a closed set: `aws:<Action>` for a registered action, and
 * one `aws:unknown` for every other name or none (a hostile client can make up millions).
 */
export const awsRoute = (response: { action?: string }): string =>
  response.action !== undefined ? `aws:${response.action}` : AWS_UNKNOWN_ROUTE;

export const AWS_UNKNOWN_ROUTE = 'aws:unknown';

export function awsEndpoint(deps: EndpointDeps): Handler {
  const keyCache = new SigningKeyCache();
  /** Verify a request's signature for one of `services` and resolve who signed it. */
  const verify = async (req: QueryHttpRequest, services: string | readonly string[]) => {
    let caller: Caller | undefined;
    const lookup: SecretLookup = async (accessKeyId, ctx) => {
      const r = await deps.resolve(accessKeyId, ctx.sessionToken);
      caller = r.caller;
      return { secretAccessKey: r.secret };
    };
    let result: Awaited<ReturnType<typeof verifySigV4>>;
    try {
      result = await verifySigV4(
        { method: req.method, path: req.path, query: req.query, rawHeaders: req.rawHeaders, body: req.body },
        lookup,
        { now: deps.now(), expectedService: services, allowedRegions: AWS_REGIONS, keyCache },
      );
    } catch (e) {
      if (!(e instanceof SigV4Failure)) throw e;
      const answer = sigV4Error(e.reason);
      // Who presented it: the credential when it resolved (a wrong signature), else its key id.
      const presented = caller
        ? presentedCaller(caller)
        : e.accessKeyId !== undefined
          ? presentedKeyId(e.accessKeyId)
          : undefined;
      if (!presented) throw answer;
      throw refuse(answer, presented, { kind: 'signature', failure: e.reason });
    }
    if (!caller) throw new AwsError('InvalidClientTokenId');
    return { caller, service: result.service, region: result.region };
  };
  const QUERY_SIGNING = ['sts', 'iam'] as const;

  return async (req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    const json = deps.jsonRegistry !== undefined && isJsonProtocol(req.rawHeaders);
    let body: Buffer;
    try {
      body = await readBody(req, deps.bodyLimitBytes);
    } catch (e) {
      if (!(e instanceof BodyTooLargeError)) throw e;
      const r = json
        ? jsonErrorResponse(new JsonError('RequestEntityTooLargeException'), ctx.requestId)
        : errorResponse(new AwsError('RequestEntityTooLarge'), 'sts', ctx.requestId);
      res.writeHead(413, r.headers);
      res.end(r.body);
      return;
    }
    const request: QueryHttpRequest = {
      method: req.method ?? 'GET',
      path,
      query,
      rawHeaders: req.rawHeaders,
      body,
      remoteAddress: ctx.remoteAddress,
      secure: ctx.secure,
      requestId: ctx.requestId,
    };
    const ua = req.headers['user-agent'];
    // Who signed this request once its signature verified, so a later refusal can name its caller.
    // A local, not a WeakMap keyed by request: V8's young-generation collector promotes what a
    // WeakMap holds, so each request's graph would outlive it until a full collection.
    let signer: Caller | undefined;
    const signed = async (r: QueryHttpRequest, services: string | readonly string[]) => {
      const who = await verify(r, services);
      signer = who.caller;
      return who;
    };
    const report = (info: { requestId: string; action?: string; error: unknown }): void => {
      deps.onError?.({
        ...info,
        sourceIp: ctx.remoteAddress,
        ...(ua ? { userAgent: ua.slice(0, 512) } : {}),
        ...(signer ? { caller: signer } : {}),
      });
    };
    if (json && deps.jsonRegistry) {
      const response = await handleJsonRequest(request, {
        registry: deps.jsonRegistry,
        authenticate: signed,
        random: deps.random,
        classifyError: (error) =>
          isStoreUnavailable(error) ? new JsonError('ServiceUnavailable') : undefined,
        onError: report,
      });
      ctx.route = awsRoute(response);
      res.writeHead(response.status, response.headers);
      res.end(response.body);
      return;
    }
    const response = await handleQueryRequest(request, {
      registry: deps.registry,
      authenticate: (r: QueryHttpRequest, _service: QueryService) => signed(r, QUERY_SIGNING),
      random: deps.random,
      // The store cannot write (disk full or read-only, I/O error, database unreachable): nothing was
      // done and the client should retry, which SDKs do for a 503 ServiceUnavailable.
      classifyError: (error) => (isStoreUnavailable(error) ? new AwsError('ServiceUnavailable') : undefined),
      onError: report,
    });
    ctx.route = awsRoute(response);
    res.writeHead(response.status, response.headers);
    res.end(response.body);
  };
}
