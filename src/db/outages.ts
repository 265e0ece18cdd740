/**
 * Database outages translated once, where the database is called: a driver failure that says the
 * database cannot answer now (isDatabaseUnavailable) becomes ServiceUnavailable, with the driver's
 * error as its `cause`. Every other error (a unique violation the stores map, a bug) passes as is.
 */
import { type DatabaseConnection, type Dialect, type Driver, type TransactionSettings } from "kysely";
import { ServiceUnavailable } from "../errors";
import { isDatabaseUnavailable } from "./faults";

/** ServiceUnavailable for an outage, `error` itself otherwise. */
export function asOutage(error: unknown): unknown {
  return error instanceof ServiceUnavailable || !isDatabaseUnavailable(error) ? error : new ServiceUnavailable(error);
}

/** `read` with its outages translated: for a lookup that reaches the database beside Kysely (the SQLite reader). */
export function withOutages<Args extends readonly unknown[], T>(read: (...args: Args) => Promise<T>): (...args: Args) => Promise<T> {
  return async (...args) => {
    try {
      return await read(...args);
    } catch (error) {
      throw asOutage(error);
    }
  };
}

async function translated<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw asOutage(error);
  }
}

/**
 * Wraps a Kysely dialect so that every connect, query and transaction step of its driver throws
 * ServiceUnavailable for an outage. `closeDriver` ends the driver below Kysely: a query after it
 * (a request still in flight at shutdown) then fails as an outage too, where Kysely's own
 * `destroy()` would throw a plain "driver has already been destroyed" above the driver.
 */
export function withOutageTranslation(dialect: Dialect): { dialect: Dialect; closeDriver: () => Promise<void> } {
  let driver: OutageTranslatingDriver | undefined;
  return {
    dialect: {
      createAdapter: () => dialect.createAdapter(),
      createQueryCompiler: () => dialect.createQueryCompiler(),
      createIntrospector: (db) => dialect.createIntrospector(db),
      createDriver: () => (driver = new OutageTranslatingDriver(dialect.createDriver())),
    },
    closeDriver: async () => driver?.destroy(),
  };
}

const CLOSED = () => new ServiceUnavailable(new Error("The database connection is not open"));

class OutageTranslatingDriver implements Driver {
  private readonly translatedConnections = new WeakSet<DatabaseConnection>();
  private closing: Promise<void> | undefined;

  constructor(private readonly inner: Driver) {}

  init(): Promise<void> {
    if (this.closing) return Promise.reject(CLOSED());
    return translated(() => this.inner.init());
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    if (this.closing) throw CLOSED();
    const connection = await translated(() => this.inner.acquireConnection());
    // Patched in place (drivers keep their own connection objects, and release them by identity).
    if (!this.translatedConnections.has(connection)) {
      const execute = connection.executeQuery.bind(connection);
      const stream = connection.streamQuery.bind(connection);
      connection.executeQuery = (query) => translated(() => execute(query));
      connection.streamQuery = async function* (query, chunkSize) {
        try {
          yield* stream(query, chunkSize);
        } catch (error) {
          throw asOutage(error);
        }
      };
      this.translatedConnections.add(connection);
    }
    return connection;
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return translated(() => this.inner.beginTransaction(connection, settings));
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return translated(() => this.inner.commitTransaction(connection));
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return translated(() => this.inner.rollbackTransaction(connection));
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return translated(() => this.inner.releaseConnection(connection));
  }

  /** Idempotent: Kysely's destroy() and DatabaseHandle.close() may both call it. */
  destroy(): Promise<void> {
    return (this.closing ??= this.inner.destroy());
  }
}
