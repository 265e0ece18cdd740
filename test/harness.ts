/** Test harness: a real app on port 0 over its own database (a SQLite file, or a PostgreSQL database). */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { Client } from "pg";
import { createApp, type App } from "../src/app";
import { buildContext } from "../src/auth/context";
import { type Context } from "../src/users/viewer";
import { type Clock } from "../src/clock";
import { loadConfig, type Config } from "../src/config";
import { type BackoffPolicy } from "../src/db/startup";
import { type HttpLimits } from "../src/http/limits";
import { createLogger, type Logger } from "../src/log";
import { type MailOverrides } from "../src/mail/mail";
import { type AuditOverrides } from "../src/audit/audit";
import { type User } from "../src/users/user.entity";

export type TestDialect = "sqlite" | "postgres";

/** Where PostgreSQL answers on every machine here (trust auth); PG_ADMIN_URL overrides it. */
export const PG_ADMIN_URL = process.env.PG_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** The dialects every suite runs on; `TEST_DIALECTS=sqlite` narrows the set. */
export const DIALECTS: readonly TestDialect[] = (process.env.TEST_DIALECTS ?? "sqlite,postgres")
  .split(",")
  .map((d) => d.trim())
  .filter((d): d is TestDialect => d === "sqlite" || d === "postgres");

export const TEST_SECRET = "test-secret-key-that-is-at-least-32-bytes-long";

/** A database of its own for one test file; `drop()` removes it. */
export interface TestDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(dialect: TestDialect): Promise<TestDatabase> {
  if (dialect === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "graphql-auth-test-"));
    return { url: `sqlite:${join(dir, "test.db")}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `graphql_auth_test_${randomBytes(6).toString("hex")}`;
  const admin = new Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new Client({ connectionString: PG_ADMIN_URL });
      await client.connect();
      try {
        // A closed pool's sockets can still be ending: FORCE would terminate those backends, whose
        // FATAL message then reaches a client no one listens to any more and fails the suite.
        // Wait (briefly) for them to go on their own; FORCE only removes what is really left.
        for (let i = 0; i < 100; i++) {
          const { rows } = await client.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1", [name]);
          if (rows[0].n === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Configuration for tests: cheap argon2 (through Config, not a global), quiet logs, port 0. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: "test",
    PORT: "0",
    SECRET_KEY: TEST_SECRET,
    ARGON2_MEMORY_KIB: "1024",
    ARGON2_TIME_COST: "1",
    ARGON2_PARALLELISM: "1",
    HASH_CONCURRENCY: "2",
    LOG_LEVEL: "silent",
    SEED_DEMO_USERS: "false",
    ...env,
  });
}

/** A logger whose every line is kept, so tests can search the logs for secrets. */
export function capturingLogger(level = "debug"): { logger: Logger; lines: () => string } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger({ level, destination }), lines: () => chunks.join("") };
}

export interface GraphQLResponse<T = any> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: { data?: T; errors?: Array<{ message: string; extensions?: Record<string, any>; path?: unknown[] }> };
}

export interface TestServer {
  readonly app: App;
  readonly url: string;
  readonly database: TestDatabase;
  /** POSTs a GraphQL operation; `token` becomes `Authorization: Bearer <token>`. */
  gql<T = any>(
    query: string,
    variables?: Record<string, unknown>,
    options?: { token?: string; headers?: Record<string, string> },
  ): Promise<GraphQLResponse<T>>;
  /** Creates a user with a unique suffix through the real store and password service. */
  createUser(options?: TestUserOptions): Promise<TestUser>;
  /** Logs in through the real `login` mutation and returns the access token. */
  login(username: string, password: string, scopes?: string[]): Promise<string>;
  close(): Promise<void>;
}

export interface TestUserOptions {
  readonly prefix?: string;
  readonly password?: string;
  readonly scopes?: string[];
  readonly disabled?: boolean;
  /** Stored as is instead of an argon2id hash of `password` (legacy formats). */
  readonly passwordHash?: string;
}

export interface TestUser {
  readonly id: string;
  readonly username: string;
  readonly password: string;
  readonly user: User;
}

/** Creates a user with a unique name through the app's real store and password service. */
export async function createTestUser(app: App, options: TestUserOptions = {}): Promise<TestUser> {
  const username = uniqueName(options.prefix);
  const password = options.password ?? `pw-${randomBytes(6).toString("hex")}`;
  const user = await app.users.createUser({
    username,
    passwordHash: options.passwordHash ?? (await app.passwords.hash(password)),
    scopes: options.scopes ?? ["me", "items"],
    disabled: options.disabled,
    email: `${username}@example.com`,
    fullName: `Test ${username}`,
  });
  return { id: user.id, username, password, user };
}

let counter = 0;
/** A username no other test uses. */
export function uniqueName(prefix = "user"): string {
  counter += 1;
  return `${prefix}${counter}_${randomBytes(3).toString("hex")}`;
}

export interface TestServerOptions {
  readonly dialect?: TestDialect;
  readonly env?: Record<string, string>;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Reuse a database (a second instance on the same one); it is then not dropped by close(). */
  readonly databaseUrl?: string;
  /**
   * Resolve only once the database is migrated (default true). False returns as soon as the
   * server listens, for tests that start it before its database answers.
   */
  readonly waitForDatabase?: boolean;
  /** How start-up retries an unreachable database; tests keep the waits short. */
  readonly databaseBackoff?: BackoffPolicy;
  /** HTTP bounds in place of the production ones (short timeouts, a small connection cap). */
  readonly httpLimits?: Partial<HttpLimits>;
  /** The outbox's timings (a short poll, a short backoff) and the development outbox folder. */
  readonly mail?: MailOverrides;
  /** The webhook sender's and the retention sweeper's timings. */
  readonly audit?: AuditOverrides;
}

/** Starts the real app on an ephemeral port. Register `close` in afterAll beside the setup. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const database = options.databaseUrl
    ? { url: options.databaseUrl, drop: async () => undefined }
    : await createTestDatabase(options.dialect ?? "sqlite");
  const config = testConfig({ DATABASE_URL: database.url, ...options.env });
  const app = await createApp(config, {
    clock: options.clock,
    logger: options.logger,
    databaseBackoff: options.databaseBackoff ?? { initialDelayMs: 50, maxDelayMs: 500 },
    httpLimits: options.httpLimits,
    mail: options.mail,
    audit: options.audit,
  });
  const url = await app.listen();
  if (options.waitForDatabase ?? true) await app.databaseReady;

  const gql: TestServer["gql"] = async (query, variables, opts = {}) => {
    const headers: Record<string, string> = { "content-type": "application/json", ...opts.headers };
    if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
    const response = await fetch(`${url}/graphql`, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
    return { status: response.status, headers: response.headers, body: (await response.json()) as GraphQLResponse["body"] };
  };

  return {
    app,
    url,
    database,
    gql,
    createUser: (o) => createTestUser(app, o),
    login: async (username, password, scopes) => {
      const response = await gql(
        "mutation Login($username: String!, $password: String!, $scopes: [String!]) { login(username: $username, password: $password, scopes: $scopes) { accessToken } }",
        { username, password, scopes },
      );
      if (!response.body.data?.login) throw new Error(`login failed: ${JSON.stringify(response.body.errors)}`);
      return response.body.data.login.accessToken as string;
    },
    close: async () => {
      await app.close();
      await database.drop();
    },
  };
}

/** The one movable clock lives in test/support; re-exported here for the suites that import it from the harness. */
export { movableClock, type MovableClock } from "./support/clock";

/** The real app over a fresh SQLite file, built but not listening: for tests that need no HTTP. */
export interface TestApp {
  readonly app: App;
  /**
   * A context built by the same buildContext as the HTTP path; `token` becomes
   * `Authorization: Bearer <token>` (pass `{ authorization }` for any other header value).
   */
  context(credentials?: { token?: string; authorization?: string }): Context;
  /** Creates a user with a unique name through the real store and password service. */
  createUser(options?: TestUserOptions): Promise<TestUser>;
  /** A real access token for `userId`, from the app's own token service (no login needed). */
  tokenFor(userId: string, scopes?: readonly string[]): Promise<string>;
  /** Runs an operation through Apollo (schema, @Authorized, formatError), without HTTP. */
  execute<T = any>(
    query: string,
    variables?: Record<string, unknown>,
    credentials?: { token?: string; authorization?: string },
  ): Promise<ExecutedOperation<T>>;
  close(): Promise<void>;
}

export interface ExecutedOperation<T> {
  readonly headers: Map<string, string>;
  readonly data?: T | null;
  readonly errors?: ReadonlyArray<{ message: string; extensions?: Record<string, any>; path?: ReadonlyArray<string | number> }>;
}

export async function createTestApp(options: { env?: Record<string, string>; clock?: Clock; logger?: Logger } = {}): Promise<TestApp> {
  const database = await createTestDatabase("sqlite");
  const app = await createApp(testConfig({ DATABASE_URL: database.url, ...options.env }), { clock: options.clock, logger: options.logger });
  await app.databaseReady;
  const context: TestApp["context"] = ({ token, authorization } = {}) =>
    buildContext(
      {
        requestId: randomBytes(4).toString("hex"),
        clientAddress: "127.0.0.1",
        authorization: token !== undefined ? `Bearer ${token}` : authorization,
      },
      { tokens: app.tokens, users: app.users },
    );
  return {
    app,
    context,
    createUser: (o) => createTestUser(app, o),
    tokenFor: async (userId, scopes = ["me", "items"]) => (await app.tokens.issueAccessToken(userId, scopes)).accessToken,
    execute: async (query, variables, credentials) => {
      const response = await app.http.apollo.executeOperation({ query, variables }, { contextValue: context(credentials) });
      if (response.body.kind !== "single") throw new Error("expected a single result");
      const { data, errors } = response.body.singleResult;
      return { headers: new Map(response.http.headers), data: data as any, errors: errors as ExecutedOperation<any>["errors"] };
    },
    close: async () => {
      await app.close();
      await database.drop();
    },
  };
}
