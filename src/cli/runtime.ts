/** The CLI's runtime: standard streams, and config, database and password pool opened on first use. */
import { LoginLimiter, loginLimitPolicy } from "../auth/rate-limit";
import { PasswordService } from "../passwords/passwords";
import { eventRecorder, type EventRecorder } from "../audit/audit";
import { systemClock, type Clock } from "../clock";
import { loadConfig, readEnvironment, type Config } from "../config";
import { createDb, type DatabaseHandle } from "../db/database";
import { migrateToLatest } from "../db/migrate";
import { createLogger, type Logger } from "../log";
import { UserStore } from "../users/user.store";

/** The standard streams a command talks through; `isTTY` decides between a prompt and a pipe. */
export interface CliIO {
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean };
  readonly stdout: NodeJS.WritableStream;
  /** Prompts and errors go here, so that stdout carries only a command's result. */
  readonly stderr: NodeJS.WritableStream & { readonly isTTY?: boolean };
}

interface OpenDatabase {
  readonly handle: DatabaseHandle;
  readonly applied: readonly string[];
}

/**
 * What every command may need, each part made the first time it is asked for, so that `secret`
 * needs no configuration and `hash` no database. `close()` releases whatever was opened, which
 * lets the process exit by itself.
 */
export class CliRuntime {
  private loadedConfig: Config | undefined;
  private openDatabase: Promise<OpenDatabase> | undefined;
  private passwordService: Promise<PasswordService> | undefined;

  constructor(
    readonly io: CliIO,
    private readonly environment: () => Record<string, string | undefined> = readEnvironment,
    /** The time the stores write (created_at, updated_at); tests pass a fixed one. */
    readonly clock: Clock = systemClock,
  ) {}

  /**
   * The configuration, from the environment and `.env`, validated on first use.
   * @throws ConfigError naming the bad key.
   */
  config(): Config {
    this.loadedConfig ??= loadConfig(this.environment());
    return this.loadedConfig;
  }

  /** The configuration if a command has loaded it already (the error report reads LOG_LEVEL from it). */
  configIfLoaded(): Config | undefined {
    return this.loadedConfig;
  }

  /** The database that DATABASE_URL names, migrated to the latest schema before first use. */
  async database(): Promise<DatabaseHandle> {
    return (await this.open()).handle;
  }

  /** The migrations that opening the database applied (empty when the schema was current). */
  async appliedMigrations(): Promise<readonly string[]> {
    return (await this.open()).applied;
  }

  async users(): Promise<UserStore> {
    return new UserStore((await this.database()).db, this.clock);
  }

  /**
   * The audit log the CLI's use cases record their events in. It only queues webhooks (with
   * WEBHOOK_URL set): the servers' senders deliver them.
   */
  async audit(): Promise<EventRecorder> {
    return eventRecorder(this.config(), (await this.database()).db, this.clock);
  }

  /**
   * The password service under the configured ARGON2_* policy; one thread is enough for one
   * command. Commands only hash (`hash`, `users add`), so the dummy hash that login timing needs is
   * never made.
   */
  passwords(): Promise<PasswordService> {
    this.passwordService ??= PasswordService.create(this.config().argon2, 1, { dummyHashAtStart: false });
    return this.passwordService;
  }

  /** The failed-login counters the servers share (`users unlock`), under LOGIN_MAX_FAILURES. */
  async limiter(): Promise<LoginLimiter> {
    return new LoginLimiter((await this.database()).db, loginLimitPolicy(this.config().loginMaxFailures), this.clock);
  }

  /** Writes one line of result to stdout. */
  print(line: string): void {
    this.io.stdout.write(`${line}\n`);
  }

  /** Closes the password pool and the database, whichever were opened; never throws for a part that failed to open. */
  async close(): Promise<void> {
    const passwords = this.passwordService;
    const database = this.openDatabase;
    this.passwordService = undefined;
    this.openDatabase = undefined;
    await (await passwords?.catch(() => undefined))?.close();
    await (await database?.catch(() => undefined))?.handle.close();
  }

  private open(): Promise<OpenDatabase> {
    this.openDatabase ??= (async () => {
      const handle = createDb(this.config().databaseUrl, { logger: warningsTo(this.io.stderr) });
      try {
        return { handle, applied: await migrateToLatest(handle.db) };
      } catch (error) {
        await handle.close().catch(() => undefined);
        throw error;
      }
    })();
    return this.openDatabase;
  }
}

/**
 * A logger for what the modules shared with the server warn about (a database file other users can
 * read): each warning as one plain `warning: …` line on stderr, since an operator reads it, not a
 * log collector. Its messages name what they need (the path and mode), so the fields are dropped.
 * A warning that carries a driver error (a connection that failed) is left out: the command then
 * fails on that error and prints it as its one `error:` line.
 */
function warningsTo(stderr: NodeJS.WritableStream): Logger {
  return createLogger({
    level: "warn",
    destination: {
      write: (line: string) => {
        const { msg, err } = JSON.parse(line) as { msg?: unknown; err?: unknown };
        if (err !== undefined) return;
        stderr.write(`warning: ${String(msg)}\n`);
      },
    },
  });
}
