/** WEB_CONCURRENCY: each worker hands its metrics to the primary over the cluster channel; the primary answers their sum. */
import { type Worker } from "node:cluster";
import { AggregatorRegistry, type Registry } from "prom-client";
import { type Scrape } from "./metrics-server";

/** The one message type both directions use; other messages on the channel are left alone. */
const MESSAGE = "graphql-auth:metrics";
/** A worker that has not answered by then fails the scrape rather than leave a hole in the sum. */
const WORKER_ANSWER_MS = 5_000;

interface MetricsRequest {
  readonly type: typeof MESSAGE;
  readonly id: number;
}

interface MetricsAnswer extends MetricsRequest {
  /** The worker's registry as getMetricsAsJSON() gives it. */
  readonly metrics?: object[];
  readonly error?: string;
}

function isMetricsMessage(message: unknown): message is MetricsAnswer {
  return typeof message === "object" && message !== null && (message as { type?: unknown }).type === MESSAGE;
}

/**
 * In a cluster worker: answers the primary's requests with this registry's values.
 * @returns a function that stops answering (the app is closing).
 */
export function answerPrimary(registry: Registry, channel: NodeJS.Process = process): () => void {
  const onMessage = (message: unknown) => {
    if (!isMetricsMessage(message) || message.metrics !== undefined || message.error !== undefined) return;
    // With a callback, a channel closed meanwhile (the worker is stopping) is no 'error' event to crash on.
    const reply = (answer: Omit<MetricsAnswer, "type" | "id">) =>
      channel.send?.({ type: MESSAGE, id: message.id, ...answer }, undefined, {}, () => undefined);
    registry.getMetricsAsJSON().then(
      (metrics) => reply({ metrics }),
      (error: unknown) => reply({ error: error instanceof Error ? error.message : String(error) }),
    );
  };
  channel.on("message", onMessage);
  return () => channel.off("message", onMessage);
}

/**
 * In the primary: asks every worker given for its metrics and answers their sum (counters and
 * histograms add up; prom-client's default process metrics aggregate as it defines for each).
 * @throws when a worker answers an error, or not within WORKER_ANSWER_MS.
 */
export function createClusterScrape(workers: () => readonly Worker[]): () => Promise<Scrape> {
  let next = 0;
  return async () => {
    const id = next++;
    const asked = workers();
    // An empty answer would read as every counter reset to nothing; no answer is the honest one.
    if (asked.length === 0) throw new Error("no worker is serving yet");
    const answers = await Promise.all(asked.map((worker) => askWorker(worker, id)));
    const summed = AggregatorRegistry.aggregate(answers);
    return { contentType: summed.contentType, body: await summed.metrics() };
  };
}

function askWorker(worker: Worker, id: number): Promise<object[]> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      worker.off("message", onMessage);
      worker.off("exit", onExit);
    };
    const onMessage = (message: unknown) => {
      if (!isMetricsMessage(message) || message.id !== id) return;
      done();
      if (message.metrics !== undefined) resolve(message.metrics);
      else reject(new Error(`worker ${worker.id} could not collect its metrics: ${message.error ?? "no answer"}`));
    };
    const onExit = () => {
      done();
      reject(new Error(`worker ${worker.id} exited during a scrape`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`worker ${worker.id} did not answer within ${WORKER_ANSWER_MS} ms`));
    }, WORKER_ANSWER_MS);
    if (!worker.isConnected()) {
      done();
      reject(new Error(`worker ${worker.id} is disconnected`));
      return;
    }
    worker.on("message", onMessage);
    worker.on("exit", onExit);
    // With a callback, a channel that closes meanwhile fails this scrape instead of emitting an 'error' nobody handles.
    worker.send({ type: MESSAGE, id } satisfies MetricsRequest, undefined, (error) => {
      if (!error) return;
      done();
      reject(new Error(`worker ${worker.id} could not be asked: ${error.message}`));
    });
  });
}
