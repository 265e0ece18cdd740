/** WEB_CONCURRENCY: a node:cluster primary that forks workers on one port, restarts them, drains them. */
import cluster, { type Worker } from "node:cluster";
import { type Config } from "./config";
import { backoffDelay, type BackoffPolicy } from "./db/startup";
import { asyncStdout, createLogger, type Logger } from "./log";
import { createClusterScrape } from "./metrics/cluster-metrics";
import { startMetricsServer } from "./metrics/metrics-server";

export interface ClusterOptions {
  readonly workers: number;
  readonly logger: Logger;
  /** The wait before restarting a worker that keeps dying; doubles per quick death, capped. */
  readonly restartBackoff?: BackoffPolicy;
  /** A worker that lived this long counts as healthy: its next death restarts after the shortest wait. */
  readonly stableAfterMs?: number;
  /** After SIGTERM, workers still running this long are killed and the primary exits 1. */
  readonly shutdownTimeoutMs?: number;
  /** METRICS_PORT: the primary alone listens there and answers the sum of its serving workers. */
  readonly metrics?: { readonly host: string; readonly port: number };
}

interface Slot {
  worker?: Worker;
  startedAt: number;
  quickDeaths: number;
  restart?: NodeJS.Timeout;
}

/** Whether this process should be the cluster primary rather than serve requests itself. */
export function isClusterPrimary(config: Config): boolean {
  return config.webConcurrency > 1 && cluster.isPrimary;
}

/**
 * The logger of a process that serves requests: on asyncStdout, with SECRET_KEY cut out of every
 * line; in a cluster worker, every line names the worker.
 */
export function serverLogger(config: Config): Logger {
  const logger = createLogger({ level: config.logLevel, secrets: [config.secretKey], destination: asyncStdout() });
  return cluster.isWorker && cluster.worker ? logger.child({ worker: cluster.worker.id }) : logger;
}

/**
 * Runs the primary: forks `workers` processes that each start the whole app and listen on the
 * same port (the primary accepts and hands connections round-robin). The primary opens no
 * database: each worker migrates at start-up, which is safe because migrations lock (see
 * migrateToLatest), and a worker that cannot reach the database keeps retrying without dying.
 * A worker that dies is forked again, after a wait that grows while it keeps dying quickly.
 * SIGTERM or SIGINT is passed to every worker, which finishes its requests in flight, closes
 * its database and exits.
 * With METRICS_PORT, the primary serves GET /metrics: each scrape asks every serving worker for
 * its registry over the cluster channel and answers their sum.
 * @returns the exit code for the primary once every worker has stopped: 0 when every worker that
 *   was serving finished its requests and exited cleanly, 1 otherwise.
 * @throws when METRICS_PORT cannot be listened on (before any worker is forked).
 */
export async function runPrimary(options: ClusterOptions): Promise<number> {
  const { logger, workers } = options;
  const backoff = options.restartBackoff ?? { initialDelayMs: 1_000, maxDelayMs: 30_000 };
  const stableAfterMs = options.stableAfterMs ?? 10_000;
  const slots = new Map<number, Slot>();
  // Every worker whose process has not exited, by id: done when empty. Not cluster.workers: node keeps
  // a worker there until its channel has disconnected too, which can come after its exit event.
  const slotOf = new Map<number, number>();
  const serving = new Set<number>();
  let stopping = false;
  let cleanStop = true;
  const servingWorkers = () => [...serving].flatMap((id) => cluster.workers?.[id] ?? []);
  const metricsServer =
    options.metrics && (await startMetricsServer({ ...options.metrics, logger, scrape: createClusterScrape(servingWorkers) }));

  const fork = (index: number) => {
    const worker = cluster.fork();
    slotOf.set(worker.id, index);
    const slot = slots.get(index) ?? { startedAt: 0, quickDeaths: 0 };
    slots.set(index, { ...slot, worker, startedAt: Date.now(), restart: undefined });
  };

  const code = await new Promise<number>((resolve) => {
    const finishIfDone = () => {
      if (stopping && slotOf.size === 0) resolve(cleanStop ? 0 : 1);
    };

    cluster.on("listening", (worker, address) => {
      serving.add(worker.id);
      logger.info(
        { worker: worker.id, workerPid: worker.process.pid, port: address.port },
        `worker ${worker.id} (pid ${worker.process.pid}) serving on port ${address.port}`,
      );
    });

    cluster.on("exit", (worker, code, signal) => {
      const index = slotOf.get(worker.id);
      slotOf.delete(worker.id);
      const wasServing = serving.delete(worker.id);
      if (stopping) {
        // Only a worker that was serving can lose requests. One that never listened (still
        // starting, or failing to start at the moment we stopped) had none to finish, however it
        // exited; one killed by our SIGTERM before it had installed its handler had just started.
        if (wasServing && code !== 0 && signal !== "SIGTERM") cleanStop = false;
        logger.info({ worker: worker.id, workerPid: worker.process.pid, code, signal }, "worker stopped");
        finishIfDone();
        return;
      }
      if (index === undefined) return;
      const slot = slots.get(index)!;
      const lived = Date.now() - slot.startedAt;
      // A worker that dies soon after starting is likely to die again: wait longer each time so
      // a crash loop does not spin, and start over once a worker has stayed up.
      slot.quickDeaths = lived >= stableAfterMs ? 1 : slot.quickDeaths + 1;
      const delayMs = backoffDelay(backoff, slot.quickDeaths);
      logger.error(
        { worker: worker.id, workerPid: worker.process.pid, slot: index, code, signal, restartInMs: delayMs },
        `worker ${worker.id} died; starting another in ${delayMs} ms`,
      );
      slot.worker = undefined;
      slot.restart = setTimeout(() => fork(index), delayMs);
    });

    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, "primary shutting down: draining every worker");
      for (const slot of slots.values()) clearTimeout(slot.restart);
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGTERM");
      setTimeout(() => {
        logger.error("workers did not stop in time; killing them");
        for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGKILL");
        cleanStop = false;
      }, options.shutdownTimeoutMs ?? 15_000).unref();
      finishIfDone();
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);

    logger.info({ workers }, `primary (pid ${process.pid}) starting ${workers} workers`);
    for (let index = 0; index < workers; index += 1) fork(index);
  });
  await metricsServer?.close();
  return code;
}
