/** The composition root: builds database, stores, services, resolvers, schema, Apollo and HTTP. */
import { type AccountsDeps } from "./accounts/accounts-deps";
import { createAudit, type Audit, type AuditOverrides } from "./audit/audit";
import { loadSigningKeys } from "./auth/keys";
import { type LoginDeps } from "./auth/login";
import { ActionLimiter, LoginLimiter, loginLimitPolicy } from "./auth/rate-limit";
import { refreshTokenKey } from "./auth/refresh-tokens";
import { TokenService } from "./auth/tokens";
import { systemClock, type Clock } from "./clock";
import { type Config } from "./config";
import { createDb, type DatabaseHandle } from "./db/database";
import { migrateToLatest } from "./db/migrate";
import { DatabaseStartup, type BackoffPolicy } from "./db/startup";
import { createApollo } from "./graphql/apollo";
import { appResolvers, buildAppSchema } from "./graphql/schema";
import { httpLimits, type HttpLimits } from "./http/limits";
import { createHttpServer, type HttpServer } from "./http/server";
import { createLogger, type Logger } from "./log";
import { createMail, type Mail, type MailOverrides } from "./mail/mail";
import { createAppMetrics, type AppMetrics } from "./metrics/app-metrics";
import { type MfaDeps } from "./mfa/mfa-deps";
import { MfaStore } from "./mfa/mfa.store";
import { secondFactor } from "./mfa/second-step";
import { mfaKeysFrom } from "./mfa/secret-box";
import { PasswordService } from "./passwords/passwords";
import { CALIBRATION_SCAN_ROWS, calibrateFromStoredHashes } from "./passwords/timing-calibration";
import { SessionStore } from "./sessions/session.store";
import { seedDemoUsers } from "./users/demo-users";
import { UserStore } from "./users/user.store";

export interface AppOverrides {
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** How start-up retries a database that does not answer (tests shorten it). */
  readonly databaseBackoff?: BackoffPolicy;
  /** The HTTP bounds in place of HTTP_LIMITS (tests shorten the timeouts and the connection cap). */
  readonly httpLimits?: Partial<HttpLimits>;
  /** The outbox's timings and the development outbox folder (tests shorten and move them). */
  readonly mail?: MailOverrides;
  /** The webhook and retention timings (tests shorten them). */
  readonly audit?: AuditOverrides;
}

export interface App {
  readonly config: Config;
  readonly logger: Logger;
  readonly http: HttpServer;
  readonly database: DatabaseHandle;
  readonly users: UserStore;
  readonly passwords: PasswordService;
  readonly tokens: TokenService;
  /**
   * Resolves once the database is migrated (and seeded); never rejects. The app listens and
   * answers probes before that: GraphQL says "Service unavailable" and /readyz 503 meanwhile.
   */
  readonly databaseReady: Promise<void>;
  readonly sessions: SessionStore;
  /** The use cases' dependencies, shared by the GraphQL mutations and POST /token. */
  readonly auth: LoginDeps;
  /** Failed-login counters; changePassword counts a wrong current password here too. */
  readonly limiter: LoginLimiter;
  /** The outbox: `enqueueMail` inside a use case's transaction, and whether mail is configured. */
  readonly mail: Mail;
  /** Two-factor authentication's store and use-case dependencies. */
  readonly mfa: MfaDeps;
  /** The audit log: `recordEvent` inside a use case's transaction; the webhook sender and retention. */
  readonly audit: Audit;
  /** The account use cases' dependencies (register, verification, reset). */
  readonly accounts: AccountsDeps;
  /** METRICS_PORT's counters and listener (started by listen, stopped by close). */
  readonly metrics: AppMetrics;
  /** Starts listening; resolves to the base URL (`http://host:port`). */
  listen(): Promise<string>;
  /**
   * Answers waiting password verifications 503, stops accepting, finishes requests in flight (and
   * the hashes they are computing), then closes the pool and the database.
   */
  close(): Promise<void>;
}

export async function createApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const logger = overrides.logger ?? createLogger({ level: config.logLevel, secrets: [config.secretKey] });
  const clock = overrides.clock ?? systemClock;
  // Made first, so the password service can report its computations; it uses no thread-pool I/O
  // (prom-client reads /proc synchronously), as the comment below requires.
  const metrics = createAppMetrics(config, logger);
  // The hash pool before anything that could write a log line or look a host name up: its thread
  // lowers its own CPU priority, and libuv's thread pool (where argon2 runs) takes that priority
  // from whichever thread uses it first (see hash-worker.ts).
  const passwords = await PasswordService.create(config.argon2, config.hashConcurrency, {
    queueMax: config.hashQueueMax,
    clock,
    onComputed: (operation, seconds) => metrics.metrics.passwordComputed(operation, seconds),
  });
  metrics.watchHashQueue(() => passwords.waitingTasks);
  let opened: DatabaseHandle | undefined;
  try {
    // Keys first: a missing production key stops start-up before the database is touched.
    const keys = await loadSigningKeys(config, logger);
    const database = createDb(config.databaseUrl, { logger });
    opened = database;
    const tokens = new TokenService(
      keys,
      { issuer: config.jwtIssuer, audience: config.jwtAudience, lifetimeSeconds: config.accessTokenExpireMinutes * 60 },
      clock,
    );
    const users = new UserStore(database.db, clock, database.tokenSubjects);
    const sessions = new SessionStore(database.db);
    const limiter = new LoginLimiter(database.db, loginLimitPolicy(config.loginMaxFailures), clock);
    const mail = createMail(config, { db: database.db, clock, logger, metrics: metrics.metrics }, overrides.mail);
    const audit = createAudit(config, { db: database.db, clock, logger, metrics: metrics.metrics }, overrides.audit);
    // In the background, so the HTTP server comes up (and /healthz answers) while PostgreSQL is
    // still starting or unreachable; the pool connects once it answers.
    const startup = new DatabaseStartup(
      async () => {
        const applied = await migrateToLatest(database.db);
        if (applied.length > 0) logger.info({ migrations: applied }, "database migrated");
        if (config.seedDemoUsers) await seedDemoUsers(users, passwords, logger);
        // Before ready: the equal-timing floor learns what every kind of stored hash costs.
        const kinds = await calibrateFromStoredHashes(users.storedPasswordHashes(CALIBRATION_SCAN_ROWS), passwords);
        logger.info({ kinds, floorMs: Math.round(passwords.floorMs) }, "equal-timing floor calibrated from the stored hashes");
      },
      logger,
      overrides.databaseBackoff,
    );

    // The use cases behind both doors: the GraphQL mutations and POST /token.
    const sessionDeps = {
      users,
      passwords,
      tokens,
      sessions,
      limiter,
      clock,
      logger,
      audit,
      refreshTokenExpireDays: config.refreshTokenExpireDays,
      refreshTokenReuseInterval: config.refreshTokenReuseInterval,
      refreshTokenKey: refreshTokenKey(keys),
      metrics: metrics.metrics,
    };
    // TOTP secrets are sealed under MFA_ENCRYPTION_KEY, or a key derived from SECRET_KEY (the HS256
    // secret, development's kept one included); an asymmetric algorithm alone leaves none.
    const hsSecret = keys.signing.key.type === "secret" ? keys.signing.key.export() : undefined;
    const mfaKeys = mfaKeysFrom({
      encryptionKey: config.mfaEncryptionKey === undefined ? undefined : Buffer.from(config.mfaEncryptionKey, "hex"),
      signingSecret: config.secretKey === undefined ? hsSecret : Buffer.from(config.secretKey, "utf8"),
    });
    const mfa: MfaDeps = { ...sessionDeps, mfa: new MfaStore(database.db), mfaKeys, issuer: config.jwtIssuer };
    const auth: LoginDeps = {
      ...sessionDeps,
      secondFactor: secondFactor(mfa),
      requireEmailVerification: config.accounts.requireEmailVerification,
    };
    const accounts: AccountsDeps = {
      ...sessionDeps,
      db: database.db,
      mail,
      actions: new ActionLimiter(database.db, clock),
      config: config.accounts,
    };
    const admin = { users, passwords, clock, limiter, audit, mfa: mfa.mfa };
    const schema = await buildAppSchema(
      appResolvers({ auth, sessions: { sessions, clock, audit }, mfa, audit: { db: database.db }, accounts, admin }),
    );
    const http = await createHttpServer({
      config,
      logger,
      contextDeps: { tokens, users },
      auth,
      jwks: keys.jwks,
      ping: () => database.ping(),
      databaseReady: () => startup.isReady(),
      limits: httpLimits(overrides.httpLimits),
      createApollo: (plugins) => createApollo({ schema, config, logger, plugins }),
    });
    startup.start();
    mail.start(startup.whenReady);
    audit.start(startup.whenReady);
    return {
      config,
      logger,
      http,
      database,
      users,
      passwords,
      tokens,
      databaseReady: startup.whenReady,
      sessions,
      auth,
      limiter,
      mail,
      mfa,
      audit,
      accounts,
      metrics,
      listen: async () => {
        // Before the API: a worker answers the primary's scrapes from the moment it serves.
        await metrics.start();
        await http.fastify.listen({ host: config.host, port: config.port });
        const address = http.fastify.server.address();
        const port = typeof address === "object" && address ? address.port : config.port;
        const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
        logger.info({ url: `${url}/graphql` }, `graphql-auth-server listening on ${url}/graphql`);
        return url;
      },
      close: async () => {
        // Waiting logins first: they are answered 503 (Connection: close) at once, instead of
        // holding the server open for as long as the queue takes; running hashes finish.
        passwords.stopAccepting();
        await http.fastify.close();
        await startup.stop();
        await mail.stop();
        await audit.stop();
        await passwords.close();
        await database.close();
        await metrics.stop();
      },
    };
  } catch (error) {
    await passwords.close();
    await opened?.close();
    throw error;
  }
}
