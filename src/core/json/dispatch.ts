// The JSON 1.1 protocol front door (AWS Organizations): `POST /` with `X-Amz-Target:
// <prefix>.<Operation>` and an `application/x-amz-json-1.1` body → authentication → typed input →
// handler → JSON. Pure over a plain request object, like the Query protocol's dispatcher; the server
// reads the socket and writes the response.
import type { Random } from '../deps.js';
import { rawHeader } from '../headers.js';
import { JsonError, jsonError, toJsonError } from './errors.js';
import { JsonReader, parseBody } from './input.js';

export const JSON_SERVICES = {
  organizations: { targetPrefix: 'AWSOrganizationsV20161128', signingName: 'organizations' },
} as const;
export type JsonService = keyof typeof JSON_SERVICES;

export const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';

/** The request as received: raw, so SigV4 can be checked over the exact bytes. */
export interface JsonHttpRequest {
  method: string;
  path: string;
  query: string;
  rawHeaders: readonly string[];
  body: Uint8Array;
  remoteAddress: string;
  secure?: boolean;
  requestId?: string;
}

export interface JsonHttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The registered operation that answered, when the target named one: a closed set (metric labels). */
  action?: string;
}

export interface OperationContext<C> {
  requestId: string;
  /** `organizations:CreatePolicy` style name. */
  action: string;
  request: JsonHttpRequest;
  caller: C;
  /** The region the request was signed for (becomes aws:RequestedRegion). */
  region: string;
}

/** A JSON object answer (JSON 1.1 timestamps are epoch seconds). */
export type JsonObject = { [key: string]: JsonValue };
export type JsonValue = string | number | boolean | JsonObject | JsonValue[] | undefined;

export interface OperationDefinition<C, I> {
  service: JsonService;
  name: string;
  /** Read and validate the input before the handler runs. */
  input: (body: JsonReader) => I;
  handler: (input: I, ctx: OperationContext<C>) => Promise<JsonObject> | JsonObject;
}

/** An operation with its input type erased, ready for a registry. Every JSON operation is signed. */
export interface JsonOperation<C> {
  readonly service: JsonService;
  readonly name: string;
  run(body: JsonReader, ctx: OperationContext<C>): Promise<JsonObject>;
}

export function defineOperation<C, I>(def: OperationDefinition<C, I>): JsonOperation<C> {
  return {
    service: def.service,
    name: def.name,
    async run(body, ctx) {
      return def.handler(def.input(body), ctx);
    },
  };
}

export interface JsonRegistry<C> {
  /** By the full `X-Amz-Target` value. */
  get(target: string): JsonOperation<C> | undefined;
  readonly operations: readonly JsonOperation<C>[];
}

export function createJsonRegistry<C>(operations: readonly JsonOperation<C>[]): JsonRegistry<C> {
  const byTarget = new Map<string, JsonOperation<C>>();
  for (const op of operations) {
    const target = `${JSON_SERVICES[op.service].targetPrefix}.${op.name}`;
    if (byTarget.has(target)) throw new Error(`duplicate JSON operation ${target}`);
    byTarget.set(target, op);
  }
  return { get: (t) => byTarget.get(t), operations: [...operations] };
}

export interface JsonAuthenticated<C> {
  caller: C;
  service: string;
  region: string;
}

export interface JsonDeps<C> {
  registry: JsonRegistry<C>;
  /** Verify SigV4 and resolve the caller; throw (SigV4Failure, a SigV4 AwsError, JsonError) to refuse. */
  authenticate: (request: JsonHttpRequest, signingName: string) => Promise<JsonAuthenticated<C>>;
  random: Random;
  /** Operator-side report of every failure; never sent to the client. */
  onError?: (info: { requestId: string; action?: string; error: JsonError; cause: unknown }) => void;
  /**
   * The protocol error to answer for a failure that is not a JsonError (e.g. the store's disk is
   * full: a retryable ServiceUnavailable); undefined leaves it to toJsonError.
   */
  classifyError?: (error: unknown) => JsonError | undefined;
}

/** A JSON-protocol request: it names its operation in X-Amz-Target or speaks the JSON content type. */
export function isJsonProtocol(rawHeaders: readonly string[]): boolean {
  if (rawHeader(rawHeaders, 'x-amz-target') !== undefined) return true;
  return (rawHeader(rawHeaders, 'content-type') ?? '').toLowerCase().startsWith('application/x-amz-json-');
}

function respond(status: number, requestId: string, body: string): JsonHttpResponse {
  return {
    status,
    headers: {
      'x-amzn-RequestId': requestId,
      'content-type': JSON_CONTENT_TYPE,
      'content-length': String(Buffer.byteLength(body)),
    },
    body,
  };
}

/** An error in the JSON 1.1 shape: `{"__type": "<Code>", "Message": …}` (plus `Reason` where modelled). */
export function jsonErrorResponse(error: unknown, requestId: string): JsonHttpResponse {
  const e = toJsonError(error);
  const body: Record<string, string> = { __type: e.code, Message: e.message };
  if (e.reason) body.Reason = e.reason;
  return respond(e.status, requestId, JSON.stringify(body));
}

export async function handleJsonRequest<C>(
  req: JsonHttpRequest,
  deps: JsonDeps<C>,
): Promise<JsonHttpResponse> {
  const requestId = req.requestId ?? deps.random.uuid();
  let action: string | undefined;
  let name: string | undefined;
  try {
    if (req.method !== 'POST') throw jsonError('httpMethodNotSupported', req.method.slice(0, 16));
    const target = rawHeader(req.rawHeaders, 'x-amz-target') ?? '';
    const op = deps.registry.get(target);
    if (!op) throw new JsonError('UnknownOperationException');
    action = `${op.service}:${op.name}`;
    name = op.name;
    const signingName = JSON_SERVICES[op.service].signingName;
    const who = await deps.authenticate(req, signingName);
    if (who.service !== signingName) throw jsonError('wrongService', signingName);
    const reader = new JsonReader(parseBody(req.body));
    const result = await op.run(reader, {
      requestId,
      action,
      request: req,
      caller: who.caller,
      region: who.region,
    });
    const ok = respond(200, requestId, JSON.stringify(result));
    ok.action = op.name;
    return ok;
  } catch (cause) {
    const error =
      (cause instanceof JsonError ? undefined : deps.classifyError?.(cause)) ?? toJsonError(cause);
    deps.onError?.(action === undefined ? { requestId, error, cause } : { requestId, action, error, cause });
    const failed = jsonErrorResponse(error, requestId);
    if (name !== undefined) failed.action = name;
    return failed;
  }
}
