/** The metrics listener: GET /metrics on METRICS_PORT (same HOST), 404 for anything else; apart from the API's server. */
import { createServer, type Server } from "node:http";
import { type AddressInfo } from "node:net";
import { type Logger } from "../log";

/** What one scrape answers: the exposition text and its content type. */
export interface Scrape {
  readonly contentType: string;
  readonly body: string;
}

export interface MetricsServerOptions {
  readonly host: string;
  readonly port: number;
  readonly logger: Logger;
  /** Builds the answer; a rejection is answered 503 (a worker did not answer the primary in time). */
  readonly scrape: () => Promise<Scrape>;
}

export interface MetricsServer {
  /** The scrape URL, `http://host:port/metrics`. */
  readonly url: string;
  close(): Promise<void>;
}

/** A scrape that takes longer than this is cut; Prometheus's own default scrape timeout is 10 s. */
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * Listens on `host:port` (0: a free port, which the log line names). A server of its own, not a
 * route of the API's: the port can stay closed to the outside while /graphql is public, and a
 * scrape never counts against the API's connection cap or rate limits.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { logger } = options;
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? "").split("?")[0];
    if (path !== "/metrics" || (request.method !== "GET" && request.method !== "HEAD")) {
      response.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("Not found\n");
      return;
    }
    options.scrape().then(
      ({ contentType, body }) => {
        response.writeHead(200, { "content-type": contentType, "cache-control": "no-store" }).end(body);
      },
      (error: unknown) => {
        logger.warn({ err: { message: error instanceof Error ? error.message : String(error) } }, "metrics scrape failed");
        response.writeHead(503, { "content-type": "text/plain; charset=utf-8" }).end("Metrics unavailable\n");
      },
    );
  });
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = REQUEST_TIMEOUT_MS;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}/metrics`;
  logger.info({ url }, `metrics served on ${url}`);
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
