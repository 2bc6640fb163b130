// The Query-protocol front door shared by STS and IAM (one endpoint, dispatched by Action):
// form → Action/Version → authentication → parameters → handler → XML. Pure over a plain request
// object; the server reads the socket, enforces the body limit and writes the response.
import type { Random } from '../deps.js';
import { rawHeader } from '../headers.js';
import { isSigV4Failure } from '../sigv4/failure.js';
import { AwsError, awsError, isAwsError } from './errors.js';
import { FormReader, parseForm } from './parse-form.js';
import { sigV4Error } from './sigv4-errors.js';
import { renderError, renderResponse, type XmlObject } from './xml.js';

export const QUERY_SERVICES = {
  sts: { version: '2011-06-15', namespace: 'https://sts.amazonaws.com/doc/2011-06-15/' },
  iam: { version: '2010-05-08', namespace: 'https://iam.amazonaws.com/doc/2010-05-08/' },
} as const;
export type QueryService = keyof typeof QUERY_SERVICES;

/** The request as the server received it: raw, so SigV4 can be checked over the exact bytes. */
export interface QueryHttpRequest {
  method: string;
  path: string;
  /** Raw query string without '?'. */
  query: string;
  rawHeaders: readonly string[];
  body: Uint8Array;
  remoteAddress: string;
  /** Arrived over TLS (becomes aws:SecureTransport). */
  secure?: boolean;
  /** The server's request id, reused so logs, audit and the response agree. */
  requestId?: string;
}

export interface QueryHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /**
   * The registered action that answered, when the request named one: a closed set (the registry's
   * names), so it can label metrics. Never the raw `Action` parameter.
   */
  action?: string;
}

export interface ActionContext {
  requestId: string;
  action: string;
  request: QueryHttpRequest;
  /** The region a signed request was signed for (aws:RequestedRegion where the service uses it). */
  region?: string;
}

export interface SignedActionContext<C> extends ActionContext {
  caller: C;
}

/** What a handler returns: the content of `<ActionResult>`, or undefined for none. */
export type ActionResult = XmlObject | undefined;

interface ActionBase<I> {
  service: QueryService;
  name: string;
  /** Defaults to the service's API version. */
  version?: string;
  /** Read and validate parameters; violations recorded on the reader are thrown before the handler runs. */
  input: (params: FormReader) => I;
}

export interface SignedActionDefinition<C, I> extends ActionBase<I> {
  auth: 'sigv4';
  handler: (input: I, ctx: SignedActionContext<C>) => Promise<ActionResult> | ActionResult;
}

export interface UnsignedActionDefinition<I> extends ActionBase<I> {
  auth: 'none';
  handler: (input: I, ctx: ActionContext) => Promise<ActionResult> | ActionResult;
}

export type Principal<C> = { kind: 'none' } | { kind: 'sigv4'; caller: C };

/** An action with its input type erased, ready for a registry. */
export interface QueryAction<C> {
  readonly service: QueryService;
  readonly name: string;
  readonly version: string;
  readonly auth: 'sigv4' | 'none';
  run(params: FormReader, ctx: ActionContext, principal: Principal<C>): Promise<ActionResult>;
}

export function defineAction<C, I>(def: SignedActionDefinition<C, I>): QueryAction<C>;
export function defineAction<I>(def: UnsignedActionDefinition<I>): QueryAction<never>;
export function defineAction<C, I>(
  def: SignedActionDefinition<C, I> | UnsignedActionDefinition<I>,
): QueryAction<C> {
  return {
    service: def.service,
    name: def.name,
    version: def.version ?? QUERY_SERVICES[def.service].version,
    auth: def.auth,
    async run(params, ctx, principal) {
      const input = def.input(params);
      params.done();
      if (def.auth === 'none') return def.handler(input, ctx);
      if (principal.kind !== 'sigv4') throw new AwsError('MissingAuthenticationToken');
      return def.handler(input, { ...ctx, caller: principal.caller });
    },
  };
}

export interface QueryRegistry<C> {
  get(action: string): QueryAction<C> | undefined;
  readonly actions: readonly QueryAction<C>[];
}

/** Action names are unique across services: STS and IAM share the endpoint. */
export function createRegistry<C>(actions: readonly QueryAction<C>[]): QueryRegistry<C> {
  const byName = new Map<string, QueryAction<C>>();
  for (const a of actions) {
    if (byName.has(a.name)) throw new Error(`duplicate Query action ${a.name}`);
    byName.set(a.name, a);
  }
  return { get: (name) => byName.get(name), actions: [...actions] };
}

/** The result of authenticating a signed request: who, and for which service the signature was scoped. */
export interface Authenticated<C> {
  caller: C;
  service: string;
  region?: string;
}

export interface QueryDeps<C> {
  registry: QueryRegistry<C>;
  /** Verify SigV4 (and resolve the caller) for an action of `service`; throw AwsError or SigV4Failure to refuse. */
  authenticate: (request: QueryHttpRequest, service: QueryService) => Promise<Authenticated<C>>;
  random: Random;
  /** Namespace for errors raised before the service is known. */
  defaultService?: QueryService;
  /** Operator-side report of every failure (AwsError detail included); never sent to the client. */
  onError?: (info: { requestId: string; action?: string; error: unknown }) => void;
  /**
   * The protocol error to answer for a failure that is not an AwsError (e.g. the store's disk is
   * full: a retryable ServiceUnavailable); undefined leaves it an InternalFailure.
   */
  classifyError?: (error: unknown) => AwsError | undefined;
}

/** Query string parameters, plus the form body of a POST. */
export function readParameters(req: QueryHttpRequest): Map<string, string> {
  const form = parseForm(req.query);
  const type = rawHeader(req.rawHeaders, 'content-type') ?? '';
  if (req.method === 'POST' && type.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    parseForm(Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength).toString('utf8'), form);
  }
  return form;
}

function respond(status: number, requestId: string, body: string): QueryHttpResponse {
  return {
    status,
    headers: {
      'x-amzn-RequestId': requestId,
      'content-type': 'text/xml',
      'content-length': String(Buffer.byteLength(body)),
    },
    body,
  };
}

/** Render an AwsError (or any failure, as InternalFailure) in the service's ErrorResponse shape. */
export function errorResponse(error: unknown, service: QueryService, requestId: string): QueryHttpResponse {
  const e = isAwsError(error) ? error : new AwsError('InternalFailure');
  const body = renderError({
    namespace: QUERY_SERVICES[service].namespace,
    type: e.type,
    code: e.code,
    message: e.message,
    requestId,
  });
  return respond(e.status, requestId, body);
}

const serviceForVersion = (version: string | undefined): QueryService | undefined =>
  version === QUERY_SERVICES.iam.version ? 'iam' : version === QUERY_SERVICES.sts.version ? 'sts' : undefined;

export async function handleQueryRequest<C>(
  req: QueryHttpRequest,
  deps: QueryDeps<C>,
): Promise<QueryHttpResponse> {
  const requestId = req.requestId ?? deps.random.uuid();
  let service: QueryService = deps.defaultService ?? 'sts';
  let actionName: string | undefined;
  try {
    if (req.method !== 'GET' && req.method !== 'POST') {
      throw awsError('httpMethodNotSupported', req.method.slice(0, 16));
    }
    const form = readParameters(req);
    actionName = form.get('Action');
    const version = form.get('Version');
    service = serviceForVersion(version) ?? service;
    if (!actionName) throw awsError('missingAction');
    const action = deps.registry.get(actionName);
    if (!action || action.version !== version) {
      throw awsError('operationNotFound', actionName.slice(0, 128), version?.slice(0, 32));
    }
    service = action.service;
    let principal: Principal<C> = { kind: 'none' };
    let region: string | undefined;
    if (action.auth === 'sigv4') {
      const who = await deps.authenticate(req, action.service);
      if (who.service !== action.service) {
        throw awsError('wrongService', action.service);
      }
      principal = { kind: 'sigv4', caller: who.caller };
      region = who.region;
    }
    const result = await action.run(
      new FormReader(form),
      { requestId, action: action.name, request: req, ...(region !== undefined ? { region } : {}) },
      principal,
    );
    const ok = respond(
      200,
      requestId,
      renderResponse({
        action: action.name,
        namespace: QUERY_SERVICES[action.service].namespace,
        requestId,
        result,
      }),
    );
    ok.action = action.name;
    return ok;
  } catch (error) {
    deps.onError?.(
      actionName === undefined ? { requestId, error } : { requestId, action: actionName, error },
    );
    const failed = errorResponse(
      isAwsError(error)
        ? error
        : isSigV4Failure(error)
          ? sigV4Error(error.reason)
          : (deps.classifyError?.(error) ?? error),
      service,
      requestId,
    );
    const known = actionName === undefined ? undefined : deps.registry.get(actionName)?.name;
    if (known !== undefined) failed.action = known;
    return failed;
  }
}
