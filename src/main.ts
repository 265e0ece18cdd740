/** Start-up: loadConfig, createApp, listen; signals; the only process.exit of the server. */
import "reflect-metadata";
import { createApp } from "./app";
import { ConfigError, loadConfig, readEnvironment } from "./config";

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
  // A setting only start-up can check (the key folder) fails with the same one line as loadConfig's.
  const app = await createApp(config).catch((error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  });
  await app.listen();

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, "shutting down: finishing requests in flight");
    // Whatever happens, the process is gone within 10 s.
    setTimeout(() => process.exit(1), 10_000).unref();
    app.close().then(
      () => {
        app.logger.info("shut down: requests finished, database closed");
        process.exit(0);
      },
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
