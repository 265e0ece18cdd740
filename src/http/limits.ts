/** The HTTP edge's bounds, in one place: body and header sizes, every timeout, the connection cap. */
import { type Server } from "node:http";
import { type FastifyServerOptions } from "fastify";

/** What one client can make the HTTP server hold, and for how long. README "Limits" lists each. */
export interface HttpLimits {
  /** Largest request body; beyond it 413. Larger than any legitimate query or login. */
  readonly bodyLimitBytes: number;
  /** Largest request head (request line and headers); beyond it node answers 431. */
  readonly maxHeaderBytes: number;
  /** From a connection's (or a request's) first byte until its headers are complete; then 408. */
  readonly headersTimeoutMs: number;
  /** From a request's first byte until its whole body has arrived; then the connection is closed. */
  readonly requestTimeoutMs: number;
  /** A socket with no traffic at all (a client that stops reading or writing mid-request) is closed. */
  readonly connectionTimeoutMs: number;
  /** An idle keep-alive connection between two requests is closed. */
  readonly keepAliveTimeoutMs: number;
  /**
   * How often node checks the two request timers above: a timer only fires at a check, so a
   * timeout of T is really T to T plus this. Node's default of 30 s would triple the header bound.
   */
  readonly connectionsCheckingIntervalMs: number;
  /** Open connections per process; a connection beyond it is closed as soon as it is accepted. */
  readonly maxConnections: number;
}

/** The production bounds. Tests shorten them through AppOverrides.httpLimits, never through Config. */
export const HTTP_LIMITS: HttpLimits = Object.freeze({
  bodyLimitBytes: 64 * 1024,
  // Node's own default, stated here so that every bound is written in one place.
  maxHeaderBytes: 16 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  // Longer than the slowest legitimate answer (a login waiting up to MAX_QUEUE_WAIT_MS, 30 s, for
  // the hash queue, then hashed), so only a client that has stopped talking is cut.
  connectionTimeoutMs: 60_000,
  // Fastify's default, kept: longer than the 60 s idle timeout of common proxies and load balancers
  // in front, so the proxy closes an idle connection first and never sends on one we just closed.
  keepAliveTimeoutMs: 72_000,
  connectionsCheckingIntervalMs: 1_000,
  // Room for well over 1,000 clients (a browser opens up to 6 connections, a proxy pools a few
  // dozen); an idle connection costs a few KiB, so 4,096 of them stay far below the heap.
  maxConnections: 4096,
});

/** HTTP_LIMITS with the given bounds replaced (tests pass short timeouts). */
export function httpLimits(overrides: Partial<HttpLimits> = {}): HttpLimits {
  return Object.freeze({ ...HTTP_LIMITS, ...overrides });
}

/** The node http server options among them. */
interface NodeHttpLimitOptions {
  headersTimeout: number;
  requestTimeout: number;
  maxHeaderSize: number;
  connectionsCheckingInterval: number;
}

type LimitOptions = Pick<FastifyServerOptions, "bodyLimit" | "requestTimeout" | "connectionTimeout" | "keepAliveTimeout"> & {
  http: NodeHttpLimitOptions;
};

/** The Fastify (and node http.createServer) options that carry the bounds. */
export function fastifyLimitOptions(limits: HttpLimits): LimitOptions {
  return {
    bodyLimit: limits.bodyLimitBytes,
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.connectionTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Fastify sets requestTimeout on the server after creating it; node checks at creation that
    // headersTimeout is not above requestTimeout, so both are given here too.
    http: {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      maxHeaderSize: limits.maxHeaderBytes,
      connectionsCheckingInterval: limits.connectionsCheckingIntervalMs,
    },
  };
}

/** Caps the open connections of a server Fastify made; node closes any beyond the cap on accept. */
export function capConnections(server: Server, limits: HttpLimits): void {
  server.maxConnections = limits.maxConnections;
}
