// Prometheus metrics on a per-server registry (never prom-client's global one, so several servers in
// one process, as in tests, do not collide). Other modules register their own metrics on `registry`.
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

export interface Metrics {
  readonly registry: Registry;
  /** Count and time one HTTP request. Labels are bounded: unknown methods become OTHER. */
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
      const l = { route, method: KNOWN_METHODS.has(method) ? method : 'OTHER', status: String(status) };
      requests.inc(l);
      duration.observe(l, seconds);
    },
    observeClientError(code) {
      clientErrors.inc({ code });
    },
    counter,
    histogram,
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
