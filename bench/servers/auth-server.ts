/** Bench child: graphql-auth-server as built in dist/, with production settings, on a fresh SQLite file. */
import "reflect-metadata";
import { join } from "node:path";
import type * as AppModule from "../../src/app";
import type * as ConfigModule from "../../src/config";

/** What the runner passes as the one argument (JSON). */
export interface AuthServerOptions {
  /** A fresh temporary folder: the database lives there. */
  readonly dir: string;
  readonly secretKey: string;
  readonly logLevel: string;
  /** The argon2 user (current default policy), which the `me` and `login` loads use. */
  readonly username: string;
  readonly password: string;
  /** Legacy users `<prefix><n>` sharing one bcrypt cost-12 hash; each is logged in once at most. */
  readonly legacyPrefix: string;
  readonly legacyCount: number;
  readonly legacyHash: string;
  /** More configuration, for experiments (`HASH_CONCURRENCY`, ...); none in the report's run. */
  readonly env?: Record<string, string>;
}

// The server under test is the build in dist/, exactly as `npm start` runs it.
const DIST = join(__dirname, "..", "..", "..", "dist");
const { createApp } = require(join(DIST, "app.js")) as typeof AppModule;
const { loadConfig } = require(join(DIST, "config.js")) as typeof ConfigModule;

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2]!) as AuthServerOptions;
  const config = loadConfig({
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: "0",
    DATABASE_URL: `sqlite:${join(options.dir, "bench.db")}`,
    SECRET_KEY: options.secretKey,
    LOG_LEVEL: options.logLevel,
    ...options.env,
  });
  const app = await createApp(config);
  const scopes = ["me", "items"];
  await app.users.createUser({
    username: options.username,
    email: `${options.username}@example.com`,
    fullName: "Bench User",
    passwordHash: await app.passwords.hash(options.password),
    scopes,
  });
  for (let i = 0; i < options.legacyCount; i++) {
    await app.users.createUser({ username: `${options.legacyPrefix}${i}`, passwordHash: options.legacyHash, scopes });
  }
  const url = await app.listen();
  process.send!({ url });
  process.on("SIGTERM", () => {
    void app.close().then(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  process.send?.({ error: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
