/** Configuration: the one reader of process.env; validates once and returns a frozen Config. */
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { parseEnv } from "node:util";
import addressparser from "nodemailer/lib/addressparser";
import { z } from "zod";

/** The FastAPI tutorial's published example key: refused in production (CONTRACT section 2). */
export const FASTAPI_TUTORIAL_KEY = "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7";

export type NodeEnv = "development" | "test" | "production";
export type JwtAlgorithm = "HS256" | "RS256" | "ES256" | "EdDSA";

export interface Argon2Policy {
  readonly memoryCost: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

export interface Config {
  readonly nodeEnv: NodeEnv;
  readonly host: string;
  readonly port: number;
  readonly databaseUrl: string;
  /** Folder for files the server makes itself (the development key). */
  readonly dataDir: string;
  readonly secretKey: string | undefined;
  readonly accessTokenExpireMinutes: number;
  readonly jwtIssuer: string;
  readonly jwtAudience: string;
  readonly jwtAlgorithm: JwtAlgorithm;
  readonly jwtKeysDir: string;
  readonly refreshTokenExpireDays: number;
  /** Seconds a just-spent refresh token still gets its successor back; 0 is strict. */
  readonly refreshTokenReuseInterval: number;
  readonly seedDemoUsers: boolean;
  readonly logLevel: string;
  readonly argon2: Argon2Policy;
  readonly loginMaxFailures: number;
  readonly graphqlMaxAliases: number;
  readonly graphqlMaxDepth: number;
  readonly graphqlBatching: boolean;
  readonly webConcurrency: number;
  readonly hashConcurrency: number;
  /** Password verifications allowed to wait for a slot; beyond it a login is answered 503 at once. */
  readonly hashQueueMax: number;
  /**
   * How many proxies in front of the server to trust for X-Forwarded-For: 0 uses the socket's
   * address; `TRUST_PROXY=true` means 1 (one proxy, whose own entry is the last in the header).
   */
  readonly trustProxy: number;
  /**
   * Host names (lower-case, without a port) the server answers for; any other Host header gets
   * 421. Undefined: any host (production's default).
   */
  readonly allowedHosts: readonly string[] | undefined;
  /**
   * Origins a browser may call the API from (CORS), each `scheme://host[:port]` with `*` allowed
   * as the port; `["*"]` is any origin (refused in production); empty is none.
   */
  readonly corsOrigins: readonly string[];
  readonly mail: MailConfig;
  /**
   * MFA_ENCRYPTION_KEY, 64 hex characters (32 bytes): the AES-256-GCM key TOTP secrets are stored
   * under. Undefined: a key derived from the HS256 secret (none under an asymmetric JWT_ALGORITHM).
   */
  readonly mfaEncryptionKey: string | undefined;
  /** AUTH_EVENTS_RETENTION_DAYS: audit events older than this are deleted, in small batches. */
  readonly authEventsRetentionDays: number;
  /** Where every audit event is POSTed (Standard Webhooks); undefined: no webhooks. */
  readonly webhook: WebhookConfig | undefined;
  readonly accounts: AccountsConfig;
  /**
   * METRICS_PORT: where `GET /metrics` (Prometheus text) is served, on HOST; 0 picks a free port.
   * Undefined: no metrics are kept and nothing listens.
   */
  readonly metricsPort: number | undefined;
}

/** Webhooks (CONTRACT section 12): WEBHOOK_URL and the secret its deliveries are signed with. */
export interface WebhookConfig {
  readonly url: string;
  /** WEBHOOK_SECRET as given: `whsec_` + base64 of at least 24 bytes. */
  readonly secret: string;
}

/** Accounts (CONTRACT section 10): sign-up, verification, the scopes of new accounts, link targets. */
export interface AccountsConfig {
  /** REGISTRATION=open lets anyone call `register`. */
  readonly registrationOpen: boolean;
  /** REQUIRE_EMAIL_VERIFICATION: an unverified address refuses login after a correct password. */
  readonly requireEmailVerification: boolean;
  /** DEFAULT_SCOPES: what `register`, `users add` and `users import` give an account that names none. */
  readonly defaultScopes: readonly string[];
  /** PUBLIC_URL without a trailing slash: this server as clients reach it. */
  readonly publicUrl: string;
  /** APP_URL without a trailing slash: where the links in mails land. */
  readonly appUrl: string;
}

/** Mail (CONTRACT section 10): where messages go, and who they are from. */
export interface MailConfig {
  /** SMTP_URL, nodemailer's URL form; undefined: `.eml` files outside production, nothing in it. */
  readonly smtpUrl: string | undefined;
  /** MAIL_FROM as given, an RFC 5322 mailbox (`Name <address>` or `address`). */
  readonly from: string;
  /** The development outbox: `<data folder>/outbox`, `./data/outbox` by default. */
  readonly outboxDir: string;
}

/** Thrown by loadConfig; the message is one line that names the key. */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    detail: string,
  ) {
    super(`Invalid configuration: ${key} ${detail}`);
    this.name = "ConfigError";
  }
}

const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ["true", "false", "1", "0", "yes", "no"].includes(v), "must be true or false")
  .transform((v) => v === "true" || v === "1" || v === "yes");

const nonEmpty = z.string().trim().min(1, "must not be empty");

/** A DNS name or IPv4 address, or an IPv6 address in brackets, as a Host header carries it. */
const HOST_NAME = /^(?:[a-z0-9_](?:[a-z0-9_.-]*[a-z0-9_])?\.?|\[[0-9a-f:.]+\])$/;

const BASE_URL_RULE = "must be an http:// or https:// URL without a query or fragment";

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const schema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  HOST: nonEmpty.default("127.0.0.1"),
  PORT: int(0, 65535).default(4000),
  DATABASE_URL: nonEmpty
    .superRefine((v, ctx) => {
      if (/^sqlite:.+/.test(v)) return;
      const problem = /^postgres(ql)?:\/\//.test(v)
        ? postgresUrlProblem(v)
        : "must be sqlite:<path>, sqlite::memory: or postgres://user:pass@host:port/db";
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .default("sqlite:./data/graphql-auth.db"),
  SECRET_KEY: z.string().optional(),
  ACCESS_TOKEN_EXPIRE_MINUTES: int(1, 60 * 24 * 365).default(30),
  JWT_ISSUER: nonEmpty.default("graphql-auth-server"),
  JWT_AUDIENCE: nonEmpty.default("graphql-api"),
  JWT_ALGORITHM: z.enum(["HS256", "RS256", "ES256", "EdDSA"]).default("HS256"),
  JWT_KEYS_DIR: nonEmpty.default("./data/keys"),
  REFRESH_TOKEN_EXPIRE_DAYS: int(1, 3650).default(14),
  REFRESH_TOKEN_REUSE_INTERVAL: int(0, 300).default(10),
  SEED_DEMO_USERS: bool.optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
  // Bounds follow the argon2 package's own limits; the upper memory bound matches the 1 GiB
  // ceiling that stored hashes are held to (CONTRACT section 7).
  ARGON2_MEMORY_KIB: int(1024, 1024 * 1024).default(65536),
  ARGON2_TIME_COST: int(1, 10).default(3),
  ARGON2_PARALLELISM: int(1, 16).default(4),
  LOGIN_MAX_FAILURES: int(1, 1000).default(5),
  GRAPHQL_MAX_ALIASES: int(1, 1000).default(15),
  GRAPHQL_MAX_DEPTH: int(1, 100).default(10),
  GRAPHQL_BATCHING: bool.default(false),
  WEB_CONCURRENCY: int(1, 64).default(1),
  HASH_CONCURRENCY: int(1, 256).optional(),
  HASH_QUEUE_MAX: int(1, 100_000).optional(),
  // true/false, or the number of proxy hops in front of the server.
  TRUST_PROXY: z
    .string()
    .trim()
    .toLowerCase()
    .refine(
      (v) => /^\d{1,2}$/.test(v) || ["true", "false", "1", "0", "yes", "no"].includes(v),
      "must be true, false or a number of proxy hops",
    )
    .transform((v) => (/^\d+$/.test(v) ? Number(v) : v === "true" || v === "yes" ? 1 : 0))
    .default(0),
  // Comma-separated host names without a port, or `*` for any.
  ALLOWED_HOSTS: z
    .string()
    .transform((v) =>
      v
        .split(",")
        .map((h) => h.trim().toLowerCase())
        .filter((h) => h !== ""),
    )
    .refine((hosts) => hosts.length > 0, "must name at least one host, or *")
    .refine(
      (hosts) => hosts.every((h) => h === "*" || HOST_NAME.test(h)),
      "must be host names without a port (IPv6 in brackets), comma-separated, or *",
    )
    .optional(),
  CORS_ORIGINS: z
    .string()
    .trim()
    .transform((v, ctx) => parseCorsOrigins(v, ctx))
    .optional(),
  // Mail (CONTRACT section 10).
  SMTP_URL: nonEmpty
    .superRefine((v, ctx) => {
      const problem = smtpUrlProblem(v);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .optional(),
  MAIL_FROM: nonEmpty
    .refine((v) => isSingleMailbox(v), "must be one address, as `Name <address@example.com>` or `address@example.com`")
    .default("graphql-auth-server <no-reply@localhost>"),
  // Two-factor authentication (CONTRACT section 11): `graphql-auth secret` prints one.
  MFA_ENCRYPTION_KEY: z
    .string()
    .trim()
    .regex(/^[0-9a-fA-F]{64}$/, "must be 64 hex characters (32 bytes); make one with `graphql-auth secret`")
    .optional(),
  // Audit log and webhooks (CONTRACT section 12).
  AUTH_EVENTS_RETENTION_DAYS: int(1, 36500).default(90),
  WEBHOOK_URL: nonEmpty.refine((v) => /^https?:$/.test(urlProtocol(v)), "must be an http:// or https:// URL").optional(),
  WEBHOOK_SECRET: nonEmpty
    .refine(
      (v) => isWebhookSecret(v),
      "must be whsec_ followed by base64 of at least 24 bytes (`graphql-auth secret --webhook` prints one)",
    )
    .optional(),
  // Accounts (CONTRACT section 10).
  REGISTRATION: z.enum(["open", "closed"]).default("closed"),
  REQUIRE_EMAIL_VERIFICATION: bool.default(false),
  DEFAULT_SCOPES: z
    .string()
    .trim()
    .refine(
      (v) => v.split(" ").every((scope) => SCOPE_TOKEN.test(scope)),
      "must be scopes separated by single spaces (RFC 6749 section 3.3)",
    )
    .default("me items"),
  PUBLIC_URL: z.string().trim().refine(isBaseUrl, BASE_URL_RULE).optional(),
  // Metrics (CONTRACT section 13): unset is off; 0 picks a free port, as PORT=0 does.
  METRICS_PORT: int(0, 65535).optional(),
  APP_URL: z.string().trim().refine(isBaseUrl, BASE_URL_RULE).optional(),
});

/** RFC 6749 section 3.3's scope-token: %x21 / %x23-5B / %x5D-7E, one or more. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** Development lets any local port call the API, so a front-end dev server works unconfigured. */
const DEVELOPMENT_CORS_ORIGINS = ["http://localhost:*", "http://127.0.0.1:*"];

/**
 * Builds the Config from an environment map. Pure: reads nothing but `env`.
 * @throws ConfigError naming the first invalid key.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  // An empty value counts as unset, as in most .env tooling.
  const present = Object.fromEntries(
    Object.keys(schema.shape).flatMap((key) => {
      const value = env[key];
      return value === undefined || value === "" ? [] : [[key, value]];
    }),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0] ?? "configuration");
    throw new ConfigError(key, issueText(issue));
  }
  const e = parsed.data;

  if (e.WEB_CONCURRENCY > 1 && e.DATABASE_URL === "sqlite::memory:") {
    throw new ConfigError("WEB_CONCURRENCY", "must be 1 with DATABASE_URL=sqlite::memory: (every worker would have a database of its own)");
  }

  const secretKey = e.SECRET_KEY;
  if (secretKey !== undefined) checkSecretKey(secretKey, e.NODE_ENV);
  else if (e.NODE_ENV === "production" && e.JWT_ALGORITHM === "HS256") {
    throw new ConfigError("SECRET_KEY", "must be set in production (run `graphql-auth secret` to make one)");
  }

  const hashConcurrency = e.HASH_CONCURRENCY ?? availableParallelism();

  const corsOrigins = e.CORS_ORIGINS ?? (e.NODE_ENV === "development" ? DEVELOPMENT_CORS_ORIGINS : []);
  if (e.NODE_ENV === "production" && corsOrigins.includes("*")) {
    throw new ConfigError("CORS_ORIGINS", "must not be * in production (list the origins that may call the API)");
  }

  if ((e.WEBHOOK_URL === undefined) !== (e.WEBHOOK_SECRET === undefined)) {
    const [missing, other] = e.WEBHOOK_URL === undefined ? ["WEBHOOK_URL", "WEBHOOK_SECRET"] : ["WEBHOOK_SECRET", "WEBHOOK_URL"];
    throw new ConfigError(missing, `must be set when ${other} is (webhooks need both)`);
  }
  // Sign-up mails a link it could not deliver: an open door nobody could finish walking through.
  if (e.NODE_ENV === "production" && e.REGISTRATION === "open" && e.SMTP_URL === undefined) {
    const why = "cannot be open in production without SMTP_URL (no verification mail could be sent)";
    throw new ConfigError("REGISTRATION", why);
  }
  // One port cannot serve both: the second listener would fail at start-up with EADDRINUSE.
  if (e.METRICS_PORT !== undefined && e.METRICS_PORT !== 0 && e.METRICS_PORT === e.PORT) {
    throw new ConfigError("METRICS_PORT", `must differ from PORT (both are ${e.PORT})`);
  }
  const listening = `http://${e.HOST.includes(":") ? `[${e.HOST}]` : e.HOST}:${e.PORT}`;
  const publicUrl = withoutTrailingSlash(e.PUBLIC_URL ?? listening);

  const config: Config = {
    nodeEnv: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    dataDir: dataDirOf(e.DATABASE_URL),
    secretKey,
    accessTokenExpireMinutes: e.ACCESS_TOKEN_EXPIRE_MINUTES,
    jwtIssuer: e.JWT_ISSUER,
    jwtAudience: e.JWT_AUDIENCE,
    jwtAlgorithm: e.JWT_ALGORITHM,
    jwtKeysDir: e.JWT_KEYS_DIR,
    refreshTokenExpireDays: e.REFRESH_TOKEN_EXPIRE_DAYS,
    refreshTokenReuseInterval: e.REFRESH_TOKEN_REUSE_INTERVAL,
    seedDemoUsers: e.SEED_DEMO_USERS ?? e.NODE_ENV === "development",
    logLevel: e.LOG_LEVEL,
    argon2: { memoryCost: e.ARGON2_MEMORY_KIB, timeCost: e.ARGON2_TIME_COST, parallelism: e.ARGON2_PARALLELISM },
    loginMaxFailures: e.LOGIN_MAX_FAILURES,
    graphqlMaxAliases: e.GRAPHQL_MAX_ALIASES,
    graphqlMaxDepth: e.GRAPHQL_MAX_DEPTH,
    graphqlBatching: e.GRAPHQL_BATCHING,
    webConcurrency: e.WEB_CONCURRENCY,
    hashConcurrency,
    // CONTRACT section 15: 32 waiting verifications per slot unless configured.
    hashQueueMax: e.HASH_QUEUE_MAX ?? 32 * hashConcurrency,
    trustProxy: e.TRUST_PROXY,
    allowedHosts: allowedHostsOf(e.ALLOWED_HOSTS, e.NODE_ENV, e.HOST),
    corsOrigins,
    mail: { smtpUrl: e.SMTP_URL, from: e.MAIL_FROM, outboxDir: join(dataDirOf(e.DATABASE_URL), "outbox") },
    mfaEncryptionKey: e.MFA_ENCRYPTION_KEY?.toLowerCase(),
    authEventsRetentionDays: e.AUTH_EVENTS_RETENTION_DAYS,
    webhook: e.WEBHOOK_URL !== undefined && e.WEBHOOK_SECRET !== undefined ? { url: e.WEBHOOK_URL, secret: e.WEBHOOK_SECRET } : undefined,
    accounts: {
      registrationOpen: e.REGISTRATION === "open",
      requireEmailVerification: e.REQUIRE_EMAIL_VERIFICATION,
      defaultScopes: [...new Set(e.DEFAULT_SCOPES.split(" "))],
      publicUrl,
      appUrl: e.APP_URL === undefined ? publicUrl : withoutTrailingSlash(e.APP_URL),
    },
    metricsPort: e.METRICS_PORT,
  };
  return deepFreeze(config);
}

/** The process environment, with a `.env` file in the working directory beneath it if present. */
export function readEnvironment(cwd = process.cwd()): Record<string, string | undefined> {
  const file = `${cwd}/.env`;
  const fromFile = existsSync(file) ? parseEnv(readFileSync(file, "utf8")) : {};
  return { ...fromFile, ...process.env };
}

function urlProtocol(value: string): string {
  try {
    return new URL(value).protocol;
  } catch {
    return "";
  }
}

/** `whsec_` + standard base64 (padding optional) of at least 24 bytes, as Standard Webhooks secrets are. */
function isWebhookSecret(value: string): boolean {
  if (!value.startsWith("whsec_")) return false;
  const encoded = value.slice("whsec_".length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return false;
  return Buffer.from(encoded, "base64").length >= 24;
}

function checkSecretKey(key: string, nodeEnv: NodeEnv): void {
  const bytes = Buffer.byteLength(key, "utf8");
  if (key === FASTAPI_TUTORIAL_KEY) {
    if (nodeEnv === "production") {
      throw new ConfigError("SECRET_KEY", "is the FastAPI tutorial's published example key; make your own with `graphql-auth secret`");
    }
  }
  if (bytes < 32) {
    throw new ConfigError("SECRET_KEY", `must be at least 32 bytes (it has ${bytes}); make one with \`graphql-auth secret\``);
  }
}

/**
 * What is wrong with a postgres:// URL, or undefined when pg can connect with what it says: it
 * parses as a URL (the WHATWG parser pg itself uses), names a host (or a `host` parameter, for a
 * socket folder), a port from 1 to 65535 if any, and a database. Checked here because pg would
 * otherwise fail every connection attempt, and the server stay unready for ever. The text never
 * repeats the URL, which may hold a password.
 */
function postgresUrlProblem(value: string): string | undefined {
  let url: URL;
  let hostless = false;
  try {
    url = new URL(value);
  } catch {
    // pg's own parser reads `user@/db?host=/socket/dir` too, by putting a dummy host in the gap.
    try {
      url = new URL(value.replace("@/", "@hostless/"));
      hostless = true;
    } catch {
      return "is not a valid postgres:// URL (check the port and the characters to percent-encode)";
    }
  }
  const host = url.searchParams.get("host") ?? (hostless ? "" : url.hostname);
  if (host === "") return "names no host (postgres://user:pass@host:port/db)";
  // URL takes the port apart from the host; a `port` parameter overrides it in pg.
  const port = url.searchParams.get("port") ?? url.port;
  if (port !== "" && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535))
    return "has a port that is not from 1 to 65535";
  if (url.pathname.replace(/^\//, "") === "") return "names no database (postgres://user:pass@host:port/db)";
  return undefined;
}

/**
 * What is wrong with an SMTP_URL, or undefined when nodemailer can use it: `smtp://` or `smtps://`,
 * a host, a port from 1 to 65535 if any. The text never repeats the URL, which may hold a password.
 */
function smtpUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "is not a valid URL (smtp://user:pass@host:port or smtps://…; percent-encode @ : / in the password)";
  }
  if (url.protocol !== "smtp:" && url.protocol !== "smtps:") return "must start with smtp:// or smtps://";
  if (url.hostname === "") return "names no host (smtp://user:pass@host:port)";
  if (url.port !== "" && Number(url.port) < 1) return "has a port that is not from 1 to 65535";
  return undefined;
}

/** Exactly one address with a local part and a domain, no group, no line break (a header injection). */
function isSingleMailbox(value: string): boolean {
  if (/[\r\n\0]/.test(value)) return false;
  const parsed = addressparser(value);
  const [only] = parsed;
  return parsed.length === 1 && !only!.group && /^[^@\s]+@[^@\s]+$/.test(only!.address ?? "");
}

/**
 * ALLOWED_HOSTS as given (`*`: any); unset, development answers only the loopback names and
 * HOST (a DNS-rebinding page reaches a developer's server under a name of its own), while
 * production, and test like it, answer any host: there the proxy in front chooses the names.
 */
function allowedHostsOf(given: string[] | undefined, nodeEnv: NodeEnv, host: string): readonly string[] | undefined {
  if (given !== undefined) return given.includes("*") ? undefined : [...new Set(given.map(withoutTrailingDot))];
  if (nodeEnv !== "development") return undefined;
  const listening = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return [...new Set(["localhost", "127.0.0.1", "[::1]", withoutTrailingDot(listening.toLowerCase())])];
}

/** An absolute http(s) URL that a path can follow: no query, fragment or credentials. */
function isBaseUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (
      (url.protocol === "http:" || url.protocol === "https:") &&
      url.search === "" &&
      url.hash === "" &&
      url.username === "" &&
      url.password === ""
    );
  } catch {
    return false;
  }
}

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

/** `localhost.` and `localhost` name the same host. */
function withoutTrailingDot(host: string): string {
  return host.endsWith(".") ? host.slice(0, -1) : host;
}

/**
 * Reads CORS_ORIGINS: `none`, a bare `*`, or comma-separated origins, each exactly what a browser
 * sends in `Origin` (scheme, host, optional port; no path), with `*` allowed as the port. An entry
 * that could never match is refused rather than left to fail silently in the browser.
 */
function parseCorsOrigins(value: string, ctx: z.RefinementCtx): string[] {
  if (value.toLowerCase() === "none") return [];
  const entries = value
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  if (entries.includes("*")) {
    if (entries.length > 1) ctx.addIssue({ code: "custom", message: "must be * alone, or a list of origins" });
    return ["*"];
  }
  const origins: string[] = [];
  for (const entry of entries) {
    const wildcardPort = entry.endsWith(":*");
    const base = wildcardPort ? entry.slice(0, -2) : entry;
    let url: URL | undefined;
    try {
      url = new URL(base);
    } catch {
      url = undefined;
    }
    // An origin has no path, query, fragment, credentials or trailing slash; only the port may be a
    // wildcard (a host wildcard would hand the API to any subdomain, taken over or not).
    const isOrigin =
      url !== undefined &&
      !url.hostname.includes("*") &&
      (url.protocol === "http:" || url.protocol === "https:") &&
      url.pathname === "/" &&
      !base.endsWith("/") &&
      url.search === "" &&
      url.hash === "" &&
      url.username === "" &&
      url.password === "";
    if (!isOrigin || (wildcardPort && url!.port !== "")) {
      ctx.addIssue({ code: "custom", message: `has an entry that is not an origin (scheme://host[:port], the port may be *): ${entry}` });
      return [];
    }
    // URL lower-cases the host and drops a default port, as browsers do in the Origin header.
    origins.push(wildcardPort ? `${url!.origin}:*` : url!.origin);
  }
  return origins;
}

function dataDirOf(databaseUrl: string): string {
  const match = /^sqlite:(.+)$/.exec(databaseUrl);
  if (!match || match[1] === ":memory:") return "./data";
  return dirname(match[1]!);
}

function issueText(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_value" && "values" in issue) {
    return `must be one of ${issue.values.map(String).join(", ")}`;
  }
  return issue.message;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
