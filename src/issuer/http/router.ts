// A small JSON router for /api/v1: method + path pattern (":name" segments) → handler. Issuer errors
// become their catalogued status and a JSON body naming the bad field; anything else propagates to
// the server, which answers 500 without detail.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestContext } from '../../http/transport.js';
import { readBody, sendJson } from '../../http/transport.js';
import { IssuerError } from '../errors.js';

export interface Call {
  req: IncomingMessage;
  params: Readonly<Record<string, string>>;
  ctx: RequestContext;
  /** The parsed JSON body; an empty body is `{}`. */
  body(): Promise<unknown>;
}

export interface Reply {
  status: number;
  body: unknown;
}

export type RouteHandler = (call: Call) => Promise<Reply>;

interface Route {
  method: string;
  segments: string[];
  handle: RouteHandler;
}

export class Router {
  private readonly routes: Route[] = [];

  constructor(
    private readonly prefix: string,
    private readonly bodyLimit: number,
  ) {}

  add(method: string, pattern: string, handle: RouteHandler): this {
    this.routes.push({ method, segments: pattern.split('/').filter(Boolean), handle });
    return this;
  }

  matches(pathname: string): boolean {
    return pathname === this.prefix || pathname.startsWith(`${this.prefix}/`);
  }

  async dispatch(req: IncomingMessage, res: ServerResponse, ctx: RequestContext): Promise<void> {
    const parts = ctx.path.slice(this.prefix.length).split('/').filter(Boolean);
    const method = req.method ?? 'GET';
    let pathMatched = false;
    try {
      for (const route of this.routes) {
        const params = match(route.segments, parts);
        if (!params) continue;
        pathMatched = true;
        if (route.method !== method) continue;
        ctx.route = `api ${route.method} /${route.segments.join('/')}`;
        const reply = await route.handle({ req, params, ctx, body: () => this.readJson(req) });
        sendJson(res, reply.status, reply.body, { 'cache-control': 'no-store' });
        return;
      }
      throw new IssuerError(pathMatched ? 'method_not_allowed' : 'not_found');
    } catch (err) {
      if (!(err instanceof IssuerError)) throw err;
      sendJson(
        res,
        err.status,
        { ...err.toJSON(), requestId: ctx.requestId },
        { 'cache-control': 'no-store' },
      );
    }
  }

  private async readJson(req: IncomingMessage): Promise<unknown> {
    const raw = await readBody(req, this.bodyLimit);
    if (raw.length === 0) return {};
    try {
      return JSON.parse(raw.toString('utf8')) as unknown;
    } catch {
      throw new IssuerError('bad_request');
    }
  }
}

function match(pattern: readonly string[], parts: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, seg] of pattern.entries()) {
    const part = parts[i] ?? '';
    if (seg.startsWith(':')) {
      let value: string;
      try {
        value = decodeURIComponent(part);
      } catch {
        return undefined;
      }
      params[seg.slice(1)] = value;
    } else if (seg !== part) return undefined;
  }
  return params;
}
