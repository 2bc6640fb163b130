// Prometheus metrics on a per-server registry (never prom-client's global one, so several servers in
// one process, as in tests, do not collide). Other modules register their own metrics on `registry`.
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

/**
 * Connection-level error codes kept as labels: what Node's HTTP parser and timeouts report. Anything
 * else counts as `other`, so the label set is closed whatever a client sends.
 */
const CLIENT_ERROR_CODE = /^(?:HPE_[A-Z_]{1,40}|ERR_HTTP_REQUEST_TIMEOUT|ECONNRESET|EPIPE|ETIMEDOUT)$/;

/** A route label longer than this is not one of ours: counted as `other`. */
const MAX_ROUTE_LABEL = 128;

export interface Metrics {
  readonly registry: Registry;
  /**
   * Count and time one HTTP request. Labels are bounded: routes are names from the mounts (never a
   * raw path or action), unknown methods become OTHER.
   */
  observeRequest(route: string, method: string, status: number, seconds: number): void;
  /** Count a connection-level protocol error (malformed request, header overflow, timeout). */
  observeClientError(code: string): void;
  counter<L extends string>(name: string, help: string, labelNames?: readonly L[]): Counter<L>;
  histogram<L extends string>(
    name: string,
    help: string,
    labelNames?: readonly L[],
    buckets?: number[],
  ): Histogram<L>;
  /** Exposition text and its content type. */
  render(): Promise<{ contentType: string; body: string }>;
}

export interface MetricsOptions {
  /** Process/runtime metrics (default true). */
  defaultMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> =>
    new Counter<L>({ name, help, labelNames, registers: [registry] });
  const histogram = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    buckets?: number[],
  ): Histogram<L> =>
    new Histogram<L>({ name, help, labelNames, registers: [registry], ...(buckets ? { buckets } : {}) });

  const labels = ['route', 'method', 'status'] as const;
  const requests = counter('gatepass_http_requests_total', 'HTTP requests served.', labels);
  const duration = histogram(
    'gatepass_http_request_duration_seconds',
    'HTTP request duration from first byte read to response end.',
    labels,
    [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );
  const clientErrors = counter(
    'gatepass_http_client_errors_total',
    'Connections rejected before a request could be routed (malformed, too large, timed out).',
    ['code'],
  );

  return {
    registry,
    observeRequest(route, method, status, seconds) {
      const l = {
        route: route.length <= MAX_ROUTE_LABEL ? route : 'other',
        method: KNOWN_METHODS.has(method) ? method : 'OTHER',
        status: status >= 100 && status <= 599 ? String(status) : 'other',
      };
      requests.inc(l);
      duration.observe(l, seconds);
    },
    observeClientError(code) {
      clientErrors.inc({ code: CLIENT_ERROR_CODE.test(code) ? code : 'other' });
    },
    counter,
    histogram,
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
