/** config: defaults, each invalid value refused naming its key, the production key rules, and .env. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig, readEnvironment } from "./config";

/** 32 bytes and more: a key the server accepts anywhere. */
const GOOD_KEY = "0123456789abcdef0123456789abcdef0123";
const TUTORIAL_KEY = "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7";

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe("loadConfig defaults", () => {
  it("follows CONTRACT section 2 with an empty environment", () => {
    const config = loadConfig({});
    expect(config).toEqual({
      nodeEnv: "development",
      host: "127.0.0.1",
      port: 4000,
      databaseUrl: "sqlite:./data/graphql-auth.db",
      dataDir: "./data",
      secretKey: undefined,
      accessTokenExpireMinutes: 30,
      jwtIssuer: "graphql-auth-server",
      jwtAudience: "graphql-api",
      jwtAlgorithm: "HS256",
      jwtKeysDir: "./data/keys",
      refreshTokenExpireDays: 14,
      refreshTokenReuseInterval: 10,
      seedDemoUsers: true,
      logLevel: "info",
      argon2: { memoryCost: 65536, timeCost: 3, parallelism: 4 },
      loginMaxFailures: 5,
      graphqlMaxAliases: 15,
      graphqlMaxDepth: 10,
      graphqlBatching: false,
      webConcurrency: 1,
      hashConcurrency: availableParallelism(),
      hashQueueMax: 32 * availableParallelism(),
      trustProxy: 0,
      allowedHosts: ["localhost", "127.0.0.1", "[::1]"],
      corsOrigins: ["http://localhost:*", "http://127.0.0.1:*"],
      mail: { smtpUrl: undefined, from: "graphql-auth-server <no-reply@localhost>", outboxDir: "data/outbox" },
      mfaEncryptionKey: undefined,
      authEventsRetentionDays: 90,
      webhook: undefined,
      accounts: {
        registrationOpen: false,
        requireEmailVerification: false,
        defaultScopes: ["me", "items"],
        publicUrl: "http://127.0.0.1:4000",
        appUrl: "http://127.0.0.1:4000",
      },
    });
    expect("mfaEncryptionKey" in config).toBe(true);
  });

  describe("accounts (CONTRACT section 10)", () => {
    const production = { NODE_ENV: "production", SECRET_KEY: GOOD_KEY };

    it("reads REGISTRATION, REQUIRE_EMAIL_VERIFICATION, DEFAULT_SCOPES, PUBLIC_URL and APP_URL", () => {
      const config = loadConfig({
        REGISTRATION: "open",
        REQUIRE_EMAIL_VERIFICATION: "true",
        DEFAULT_SCOPES: "me",
        PUBLIC_URL: "https://auth.example.com/",
        APP_URL: "https://app.example.com/accounts/",
      });
      expect(config.accounts).toEqual({
        registrationOpen: true,
        requireEmailVerification: true,
        defaultScopes: ["me"],
        publicUrl: "https://auth.example.com",
        appUrl: "https://app.example.com/accounts",
      });
      expect(loadConfig({ PUBLIC_URL: "https://auth.example.com" }).accounts.appUrl).toBe("https://auth.example.com");
      expect(loadConfig({ HOST: "::1", PORT: "8080" }).accounts.publicUrl).toBe("http://[::1]:8080");
    });

    const notBase = "must be an http:// or https:// URL without a query or fragment";
    const oneSpace = "must be scopes separated by single spaces (RFC 6749 section 3.3)";
    it.each([
      [{ REGISTRATION: "maybe" }, "REGISTRATION must be one of open, closed"],
      [{ DEFAULT_SCOPES: "me  items" }, `DEFAULT_SCOPES ${oneSpace}`],
      [{ APP_URL: "ftp://app.example.com" }, `APP_URL ${notBase}`],
      [{ PUBLIC_URL: "https://x.example.com/#a" }, `PUBLIC_URL ${notBase}`],
    ])("refuses %j", (env, message) => {
      expect(() => loadConfig(env)).toThrow(`Invalid configuration: ${message}`);
    });

    it("refuses REGISTRATION=open in production without SMTP_URL, and allows it with one", () => {
      expect(() => loadConfig({ ...production, REGISTRATION: "open" })).toThrow(
        "Invalid configuration: REGISTRATION cannot be open in production without SMTP_URL" + " (no verification mail could be sent)",
      );
      const withSmtp = { ...production, REGISTRATION: "open", SMTP_URL: "smtp://mail.example.com:587" };
      expect(loadConfig(withSmtp).accounts.registrationOpen).toBe(true);
      expect(loadConfig({ REGISTRATION: "open" }).accounts.registrationOpen).toBe(true);
    });
  });

  it("takes WEBHOOK_URL with a Standard Webhooks WEBHOOK_SECRET, both or neither, and the retention", () => {
    const secret = `whsec_${Buffer.alloc(24, 7).toString("base64")}`;
    const url = "http://127.0.0.1:9/hooks";
    expect(loadConfig({ WEBHOOK_URL: url, WEBHOOK_SECRET: secret }).webhook).toEqual({ url, secret });
    expect(loadConfig({ AUTH_EVENTS_RETENTION_DAYS: "7" }).authEventsRetentionDays).toBe(7);
    const BOTH = "(webhooks need both)";
    const notHttp = "Invalid configuration: WEBHOOK_URL must be an http:// or https:// URL";
    const refusals: Array<[Record<string, string>, string]> = [
      [{ WEBHOOK_URL: url }, `Invalid configuration: WEBHOOK_SECRET must be set when WEBHOOK_URL is ${BOTH}`],
      [{ WEBHOOK_SECRET: secret }, `Invalid configuration: WEBHOOK_URL must be set when WEBHOOK_SECRET is ${BOTH}`],
      [{ WEBHOOK_URL: "ftp://example.com/", WEBHOOK_SECRET: secret }, notHttp],
      [{ WEBHOOK_URL: "not a url", WEBHOOK_SECRET: secret }, notHttp],
      [{ AUTH_EVENTS_RETENTION_DAYS: "0" }, "Invalid configuration: AUTH_EVENTS_RETENTION_DAYS must be at least 1"],
    ];
    // 23 bytes, no prefix, not base64.
    const tooShort = `whsec_${Buffer.alloc(23, 7).toString("base64")}`;
    for (const bad of [tooShort, Buffer.alloc(32).toString("base64"), "whsec_!!!!"])
      refusals.push([
        { WEBHOOK_URL: url, WEBHOOK_SECRET: bad },
        "Invalid configuration: WEBHOOK_SECRET must be whsec_ followed by base64 of at least 24 bytes " +
          "(`graphql-auth secret --webhook` prints one)",
      ]);
    for (const [env, message] of refusals) expect(() => loadConfig(env)).toThrow(message);
  });

  it("seeds the demo users by default in development only", () => {
    expect(loadConfig({ NODE_ENV: "test" }).seedDemoUsers).toBe(false);
    expect(loadConfig({ NODE_ENV: "production", SECRET_KEY: GOOD_KEY }).seedDemoUsers).toBe(false);
    expect(loadConfig({ NODE_ENV: "production", SECRET_KEY: GOOD_KEY, SEED_DEMO_USERS: "true" }).seedDemoUsers).toBe(true);
    expect(loadConfig({ SEED_DEMO_USERS: "false" }).seedDemoUsers).toBe(false);
  });

  it("treats an empty value as unset", () => {
    expect(loadConfig({ PORT: "", LOG_LEVEL: "", SECRET_KEY: "" })).toMatchObject({ port: 4000, logLevel: "info", secretKey: undefined });
  });

  it("reads every key it is given", () => {
    const config = loadConfig({
      NODE_ENV: "test",
      HOST: "0.0.0.0",
      PORT: "0",
      DATABASE_URL: "postgres://u:p@db:5432/app",
      SECRET_KEY: GOOD_KEY,
      ACCESS_TOKEN_EXPIRE_MINUTES: "5",
      JWT_ISSUER: "me",
      JWT_AUDIENCE: "them",
      ARGON2_MEMORY_KIB: "1024",
      ARGON2_TIME_COST: "1",
      ARGON2_PARALLELISM: "1",
      GRAPHQL_BATCHING: "yes",
      HASH_CONCURRENCY: "3",
      HASH_QUEUE_MAX: "7",
      TRUST_PROXY: "1",
      REFRESH_TOKEN_REUSE_INTERVAL: "0",
    });
    expect(config).toMatchObject({
      host: "0.0.0.0",
      port: 0,
      databaseUrl: "postgres://u:p@db:5432/app",
      dataDir: "./data",
      secretKey: GOOD_KEY,
      accessTokenExpireMinutes: 5,
      jwtIssuer: "me",
      jwtAudience: "them",
      argon2: { memoryCost: 1024, timeCost: 1, parallelism: 1 },
      graphqlBatching: true,
      hashConcurrency: 3,
      hashQueueMax: 7,
      trustProxy: 1,
      refreshTokenReuseInterval: 0,
    });
  });

  it.each([
    ["sqlite:./data/graphql-auth.db", "./data"],
    ["sqlite:graphql-auth.db", "."],
    ["sqlite:/var/lib/graphql-auth/users.db", "/var/lib/graphql-auth"],
    ["sqlite:/users.db", "/"],
    ["sqlite::memory:", "./data"],
  ])("keeps the data folder beside the database file: %s -> %s", (url, dir) => {
    expect(loadConfig({ DATABASE_URL: url }).dataDir).toBe(dir);
  });

  it("returns a deeply frozen object", () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.argon2)).toBe(true);
  });
});

describe("loadConfig refusals", () => {
  it.each([
    ["NODE_ENV", "staging"],
    ["HOST", "   "],
    ["PORT", "65536"],
    ["PORT", "-1"],
    ["PORT", "4000.5"],
    ["PORT", "http"],
    ["DATABASE_URL", "mysql://localhost/db"],
    ["DATABASE_URL", "sqlite:"],
    ["DATABASE_URL", "postgres://u@host:notaport/db"],
    ["DATABASE_URL", "postgres://u@host:0/db"],
    ["DATABASE_URL", "postgres://u@host:65536/db"],
    ["DATABASE_URL", "postgres://u@host/db?port=5x"],
    ["DATABASE_URL", "postgres://u@host:5432"],
    ["DATABASE_URL", "postgres://u@host:5432/"],
    ["DATABASE_URL", "postgres:///db"],
    ["DATABASE_URL", "postgres://"],
    ["DATABASE_URL", "postgres://u:p@[::1/db"],
    ["SECRET_KEY", "too-short"],
    ["ACCESS_TOKEN_EXPIRE_MINUTES", "0"],
    ["ACCESS_TOKEN_EXPIRE_MINUTES", "thirty"],
    ["JWT_ISSUER", "  "],
    ["JWT_AUDIENCE", "\t"],
    ["JWT_ALGORITHM", "HS384"],
    ["JWT_ALGORITHM", "none"],
    ["JWT_KEYS_DIR", " "],
    ["REFRESH_TOKEN_EXPIRE_DAYS", "0"],
    ["SEED_DEMO_USERS", "maybe"],
    ["LOG_LEVEL", "verbose"],
    ["ARGON2_MEMORY_KIB", "512"],
    ["ARGON2_MEMORY_KIB", "2097152"],
    ["ARGON2_TIME_COST", "0"],
    ["ARGON2_TIME_COST", "11"],
    ["ARGON2_PARALLELISM", "0"],
    ["LOGIN_MAX_FAILURES", "0"],
    ["GRAPHQL_MAX_ALIASES", "0"],
    ["GRAPHQL_MAX_DEPTH", "0"],
    ["GRAPHQL_BATCHING", "sometimes"],
    ["WEB_CONCURRENCY", "0"],
    ["HASH_CONCURRENCY", "0"],
    ["HASH_QUEUE_MAX", "0"],
    ["TRUST_PROXY", "proxy"],
    ["ALLOWED_HOSTS", "localhost:4000"],
    ["ALLOWED_HOSTS", "http://example.com"],
    ["ALLOWED_HOSTS", " , "],
    ["MFA_ENCRYPTION_KEY", "0123456789abcdef"],
    ["MFA_ENCRYPTION_KEY", "g".repeat(64)],
    ["METRICS_PORT", "65536"],
    ["METRICS_PORT", "-1"],
    ["METRICS_PORT", "metrics"],
    ["METRICS_PORT", "4000"],
  ])("refuses %s=%j with one line naming the key", (key, value) => {
    const error = configError({ [key]: value });
    expect(error.key).toBe(key);
    expect(error.message).toMatch(new RegExp(`^Invalid configuration: ${key} `));
    expect(error.message).not.toContain("\n");
  });
});

describe("METRICS_PORT", () => {
  it("is off unset, a port when given (0: a free one), and never PORT's", () => {
    expect(loadConfig({}).metricsPort).toBeUndefined();
    expect(loadConfig({ METRICS_PORT: "" }).metricsPort).toBeUndefined();
    expect(loadConfig({ METRICS_PORT: "9464" }).metricsPort).toBe(9464);
    expect(loadConfig({ PORT: "0", METRICS_PORT: "0" }).metricsPort).toBe(0);
    expect(configError({ PORT: "8080", METRICS_PORT: "8080" }).message).toBe(
      "Invalid configuration: METRICS_PORT must differ from PORT (both are 8080)",
    );
    // PORT's default counts too.
    expect(configError({ METRICS_PORT: "4000" }).key).toBe("METRICS_PORT");
  });
});

describe("MFA_ENCRYPTION_KEY", () => {
  it("takes 64 hex characters in either case, kept lower-cased, and never a shorter key", () => {
    const key = "0123456789ABCDEF".repeat(4);
    expect(loadConfig({ MFA_ENCRYPTION_KEY: key }).mfaEncryptionKey).toBe(key.toLowerCase());
    expect(configError({ MFA_ENCRYPTION_KEY: key.slice(2) }).message).toBe(
      "Invalid configuration: MFA_ENCRYPTION_KEY must be 64 hex characters (32 bytes); " + "make one with `graphql-auth secret`",
    );
  });
});

describe("DATABASE_URL for PostgreSQL", () => {
  it.each([
    "postgres://u:p@db:5432/app",
    "postgresql://db/app",
    "postgres://u@[::1]:5432/app?sslmode=verify-full",
    "postgres://u:p%40ss@db:65535/app",
    "postgres:///app?host=/var/run/postgresql",
    "postgres://u@/app?host=/var/run/postgresql",
  ])("accepts %s", (url) => {
    expect(loadConfig({ DATABASE_URL: url }).databaseUrl).toBe(url);
  });

  it.each([
    ["postgres://u:secret-pw@host:notaport/db", "is not a valid postgres:// URL (check the port and the characters to percent-encode)"],
    ["postgres://u:secret-pw@host:0/db", "has a port that is not from 1 to 65535"],
    ["postgres://u:secret-pw@host/db?port=99999", "has a port that is not from 1 to 65535"],
    ["postgres://u:secret-pw@host:5432", "names no database (postgres://user:pass@host:port/db)"],
    ["postgres:///db", "names no host (postgres://user:pass@host:port/db)"],
  ])("H12 refuses %s with one line that says why and never repeats the password", (url, why) => {
    const error = configError({ DATABASE_URL: url });
    expect(error.key).toBe("DATABASE_URL");
    expect(error.message).toBe(`Invalid configuration: DATABASE_URL ${why}`);
    expect(error.message).not.toContain("secret-pw");
  });
});

describe("ALLOWED_HOSTS", () => {
  it("defaults to the loopback names and HOST in development, to any host in test and production", () => {
    expect(loadConfig({ HOST: "::1" }).allowedHosts).toEqual(["localhost", "127.0.0.1", "[::1]"]);
    expect(loadConfig({ HOST: "Dev.Box." }).allowedHosts).toEqual(["localhost", "127.0.0.1", "[::1]", "dev.box"]);
    expect(loadConfig({ NODE_ENV: "test" }).allowedHosts).toBeUndefined();
    expect(loadConfig({ NODE_ENV: "production", SECRET_KEY: GOOD_KEY }).allowedHosts).toBeUndefined();
  });

  it("when set, is exactly the names listed (lower-cased, without a final dot), or any for *", () => {
    expect(loadConfig({ ALLOWED_HOSTS: " API.example.com ,[::1], api.example.com." }).allowedHosts).toEqual(["api.example.com", "[::1]"]);
    expect(loadConfig({ NODE_ENV: "production", SECRET_KEY: GOOD_KEY, ALLOWED_HOSTS: "api.example.com" }).allowedHosts).toEqual([
      "api.example.com",
    ]);
    expect(loadConfig({ ALLOWED_HOSTS: "*" }).allowedHosts).toBeUndefined();
  });
});

it("refuses several workers on an in-memory SQLite database, which each worker would have alone", () => {
  const error = configError({ WEB_CONCURRENCY: "2", DATABASE_URL: "sqlite::memory:" });
  expect(error.key).toBe("WEB_CONCURRENCY");
  expect(error.message).toMatch(/^Invalid configuration: WEB_CONCURRENCY must be 1 with DATABASE_URL=sqlite::memory:/);
});

describe("the secret key", () => {
  it.each([
    ["unset", {}],
    ["shorter than 32 bytes", { SECRET_KEY: "a".repeat(31) }],
    ["the FastAPI tutorial's published key", { SECRET_KEY: TUTORIAL_KEY }],
  ])("is refused in production when %s", (_label, env) => {
    const error = configError({ NODE_ENV: "production", ...env });
    expect(error.key).toBe("SECRET_KEY");
  });

  it("counts bytes, not characters: 16 two-byte characters are 32 bytes", () => {
    expect(loadConfig({ NODE_ENV: "production", SECRET_KEY: "é".repeat(16) }).secretKey).toBe("é".repeat(16));
    expect(configError({ NODE_ENV: "production", SECRET_KEY: "é".repeat(15) }).key).toBe("SECRET_KEY");
  });

  it("is accepted in production when 32 bytes or more", () => {
    expect(loadConfig({ NODE_ENV: "production", SECRET_KEY: "k".repeat(32) }).secretKey).toBe("k".repeat(32));
  });

  it("may be unset in development and test, where a development key is made instead", () => {
    expect(loadConfig({ NODE_ENV: "development" }).secretKey).toBeUndefined();
    expect(loadConfig({ NODE_ENV: "test" }).secretKey).toBeUndefined();
  });
});

describe("readEnvironment", () => {
  let cwd: string;
  beforeEach(() => {
    cwd = mkdtempSync(join(tmpdir(), "graphql-auth-config-"));
  });
  afterEach(() => rmSync(cwd, { recursive: true, force: true }));

  it("reads a .env file in the working directory, comments and quotes included", () => {
    writeFileSync(
      join(cwd, ".env"),
      ["# a comment", "JWT_ISSUER=from-dotenv", 'JWT_AUDIENCE="quoted audience"', "GRAPHQL_MAX_DEPTH=7 # trailing"].join("\n"),
    );
    const env = readEnvironment(cwd);
    expect(env).toMatchObject({ JWT_ISSUER: "from-dotenv", JWT_AUDIENCE: "quoted audience", GRAPHQL_MAX_DEPTH: "7" });
    expect(loadConfig(env)).toMatchObject({ jwtIssuer: "from-dotenv", jwtAudience: "quoted audience", graphqlMaxDepth: 7 });
  });

  it("lets the process environment win over .env", () => {
    // The one test that must touch process.env: precedence over it is what is being tested.
    const key = "GRAPHQL_AUTH_TEST_PRECEDENCE";
    writeFileSync(join(cwd, ".env"), `${key}=from-file\n`);
    process.env[key] = "from-process";
    try {
      expect(readEnvironment(cwd)[key]).toBe("from-process");
    } finally {
      delete process.env[key];
    }
    expect(readEnvironment(cwd)[key]).toBe("from-file");
  });

  it("works without a .env file", () => {
    expect(readEnvironment(cwd).JWT_ISSUER).toBe(process.env.JWT_ISSUER);
  });

  it("refuses an invalid value from .env naming the key", () => {
    writeFileSync(join(cwd, ".env"), "ARGON2_TIME_COST=0\n");
    expect(() => loadConfig(readEnvironment(cwd))).toThrow(/^Invalid configuration: ARGON2_TIME_COST /);
  });
});

describe("CORS_ORIGINS", () => {
  it("defaults to any local port in development and to none elsewhere", () => {
    expect(loadConfig({}).corsOrigins).toEqual(["http://localhost:*", "http://127.0.0.1:*"]);
    expect(loadConfig({ NODE_ENV: "test" }).corsOrigins).toEqual([]);
    expect(loadConfig({ NODE_ENV: "production", SECRET_KEY: GOOD_KEY }).corsOrigins).toEqual([]);
  });

  it("reads a list of origins as browsers write them, with a port wildcard, or none", () => {
    expect(
      loadConfig({ CORS_ORIGINS: " https://App.Example.com , http://localhost:* ,https://x.example:443,http://[::1]:*" }).corsOrigins,
    ).toEqual(["https://app.example.com", "http://localhost:*", "https://x.example", "http://[::1]:*"]);
    expect(loadConfig({ CORS_ORIGINS: "none" }).corsOrigins).toEqual([]);
    expect(loadConfig({ NODE_ENV: "production", SECRET_KEY: GOOD_KEY, CORS_ORIGINS: "https://app.example.com" }).corsOrigins).toEqual([
      "https://app.example.com",
    ]);
  });

  it("allows a bare * outside production only, with one line naming the key", () => {
    expect(loadConfig({ CORS_ORIGINS: "*" }).corsOrigins).toEqual(["*"]);
    expect(loadConfig({ NODE_ENV: "test", CORS_ORIGINS: "*" }).corsOrigins).toEqual(["*"]);
    const error = configError({ NODE_ENV: "production", SECRET_KEY: GOOD_KEY, CORS_ORIGINS: "*" });
    expect(error.key).toBe("CORS_ORIGINS");
    expect(error.message).toBe("Invalid configuration: CORS_ORIGINS must not be * in production (list the origins that may call the API)");
  });

  it.each([
    "https://app.example.com/",
    "https://app.example.com/path",
    "app.example.com",
    "ftp://files.example",
    "https://user@app.example.com",
    "http://localhost:3000:*",
    "https://*.example.com",
    "*,https://a.example",
  ])("refuses %s", (value) => {
    const error = configError({ CORS_ORIGINS: value });
    expect(error.key).toBe("CORS_ORIGINS");
    expect(error.message).not.toContain("\n");
  });
});
