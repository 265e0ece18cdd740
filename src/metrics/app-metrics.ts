/** The metrics of one server process, as the composition root starts and stops them once. */
import cluster from "node:cluster";
import { type Config } from "../config";
import { type Logger } from "../log";
import { answerPrimary } from "./cluster-metrics";
import { NO_METRICS, type Metrics } from "./metrics";
import { startMetricsServer, type MetricsServer } from "./metrics-server";
import { MetricsRegistry } from "./registry";

export interface AppMetrics {
  /** What the use cases, the senders and the password service report to (a no-op when METRICS_PORT is unset). */
  readonly metrics: Metrics;
  /** The scrape URL once this process listens (not in a WEB_CONCURRENCY worker, nor with METRICS_PORT unset). */
  readonly url: string | undefined;
  /** Where the queue gauge reads the waiting verifications at each scrape. */
  watchHashQueue(read: () => number): void;
  /**
   * Starts exposing: GET /metrics on METRICS_PORT, or in a WEB_CONCURRENCY worker, answering the
   * primary (which alone listens there, with the workers' sum). Nothing when METRICS_PORT is unset.
   * @returns the scrape URL when this process listens.
   */
  start(): Promise<string | undefined>;
  stop(): Promise<void>;
}

/** The process's metrics for `config`: a registry only when METRICS_PORT is set. */
export function createAppMetrics(config: Pick<Config, "host" | "metricsPort">, logger: Logger): AppMetrics {
  const { metricsPort } = config;
  if (metricsPort === undefined) {
    return {
      metrics: NO_METRICS,
      url: undefined,
      watchHashQueue: () => undefined,
      start: async () => undefined,
      stop: async () => undefined,
    };
  }
  const registry = new MetricsRegistry();
  let server: MetricsServer | undefined;
  let stopAnswering: (() => void) | undefined;
  return {
    metrics: registry,
    get url() {
      return server?.url;
    },
    watchHashQueue: (read) => registry.watchHashQueue(read),
    start: async () => {
      if (cluster.isWorker) {
        stopAnswering ??= answerPrimary(registry.registry);
        return undefined;
      }
      server ??= await startMetricsServer({
        host: config.host,
        port: metricsPort,
        logger,
        scrape: async () => ({ contentType: registry.registry.contentType, body: await registry.registry.metrics() }),
      });
      return server.url;
    },
    stop: async () => {
      stopAnswering?.();
      await server?.close();
    },
  };
}
