/** HTTP load with autocannon: one GraphQL operation, fixed connections and duration, exact latencies. */
import autocannon from "autocannon";
import { cpuSecondsOf } from "./processes";

/** One measured load: throughput and latency of the successful responses. */
export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly responses: number;
  /** Non-2xx responses, connection errors and timeouts: any of these spoils the figure. */
  readonly failures: number;
  /**
   * CPU time the server's processes spent per response, in µs (every thread: the event loop,
   * the hash pool, GC helpers). Unlike req/s it does not depend on how much of the shared machine
   * the server got; NaN when not measured.
   */
  readonly cpuUsPerRequest: number;
}

export interface LoadSpec {
  /** Base URL of the server (`http://127.0.0.1:port`). */
  readonly url: string;
  readonly query: string;
  readonly variables?: Record<string, unknown>;
  readonly token?: string;
  readonly connections: number;
  readonly seconds: number;
  /** When set, each request's variables come from here (a fresh legacy user per login). */
  readonly nextVariables?: () => Record<string, unknown>;
  /** The server's processes, whose CPU time is measured over the load. */
  readonly serverPids?: readonly number[];
}

/** Runs one load and returns its figures; latencies are kept per response, in fractional ms. */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (spec.token) headers.authorization = `Bearer ${spec.token}`;
  const body = JSON.stringify({ query: spec.query, variables: spec.variables });
  const latencies: number[] = [];
  const next = spec.nextVariables;
  const cpu = () => (spec.serverPids ?? []).reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);
  const cpuBefore = spec.serverPids ? cpu() : NaN;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${spec.url}/graphql`,
        method: "POST",
        headers,
        body,
        connections: spec.connections,
        duration: spec.seconds,
        // A slow login must not count as a failure: argon2 at the default policy queues.
        timeout: 30,
        requests: next
          ? [{ setupRequest: (request) => ({ ...request, body: JSON.stringify({ query: spec.query, variables: next() }) }) }]
          : undefined,
      },
      (error, result) => {
        if (error) return reject(error);
        resolve({
          requestsPerSecond: latencies.length / result.duration,
          p50Ms: percentile(latencies, 50),
          p99Ms: percentile(latencies, 99),
          responses: latencies.length,
          failures: result.non2xx + result.errors + result.timeouts,
          cpuUsPerRequest: ((cpu() - cpuBefore) / latencies.length) * 1e6,
        });
      },
    );
    // autocannon's own histogram counts whole milliseconds; a `me` answer takes a few.
    instance.on("response", (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
  });
}

/** The p-th percentile (nearest rank) of `values`, or NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** The median of `values`, or NaN for none. */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** POSTs one GraphQL operation and returns its parsed body, for checks before and after a load. */
export async function graphql(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  token?: string,
): Promise<{ data?: any; errors?: any[] }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${url}/graphql`, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  return (await response.json()) as { data?: any; errors?: any[] };
}
