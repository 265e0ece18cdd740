/** Start-up: loadConfig, createApp, listen; signals; the only process.exit of the server. */
import "reflect-metadata";
import { createApp } from "./app";
import { isClusterPrimary, runPrimary, workerLogger } from "./cluster";
import { ConfigError, loadConfig, readEnvironment } from "./config";
import { createLogger } from "./log";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(readEnvironment());
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  if (isClusterPrimary(config)) {
    process.exit(await runPrimary({ workers: config.webConcurrency, logger: createLogger({ level: config.logLevel }) }));
  }
  const app = await createApp(config, { logger: workerLogger(config) });
  await app.listen();

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, "shutting down: finishing requests in flight");
    // Whatever happens, the process is gone within 10 s.
    setTimeout(() => process.exit(1), 10_000).unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`graphql-auth-server failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
