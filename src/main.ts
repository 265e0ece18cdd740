/** Start-up: loadConfig, createApp, listen; signals; the only process.exit of the server. */
import "reflect-metadata";
import { createApp } from "./app";
import { loadSigningKeys } from "./auth/keys";
import { isClusterPrimary, runPrimary, serverLogger } from "./cluster";
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
  if (isClusterPrimary(config)) {
    const logger = serverLogger(config);
    // Keys are checked (and a development key made) once, before any worker starts: a bad key
    // folder stops the primary with one line, not every worker in a restart loop.
    try {
      await loadSigningKeys(config, logger);
    } catch (error) {
      exitOnConfigError(error);
    }
    const metrics = config.metricsPort === undefined ? undefined : { host: config.host, port: config.metricsPort };
    process.exit(await runPrimary({ workers: config.webConcurrency, logger, metrics }));
  }
  // A setting only start-up can check (the key folder) fails with the same one line as loadConfig's.
  const app = await createApp(config, { logger: serverLogger(config) }).catch(exitOnConfigError);
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

function exitOnConfigError(error: unknown): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

main().catch((error: unknown) => {
  process.stderr.write(`graphql-auth-server failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
