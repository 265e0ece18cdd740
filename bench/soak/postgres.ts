/** The soak's own PostgreSQL database: made with a unique name at the start, dropped at the end. */
import { randomBytes } from "node:crypto";
import { Client } from "pg";

/** The administrative connection (trust auth on 127.0.0.1); PG_ADMIN_URL points elsewhere, as for the tests. */
export const PG_ADMIN_URL = process.env.PG_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface SoakDatabase {
  /** The database's URL, straight to PostgreSQL (the server gets the proxy's instead). */
  readonly url: string;
  /** Runs one query on a connection of its own (not through the proxy). */
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

async function withAdmin<T>(run: (client: Client) => Promise<T>, url = PG_ADMIN_URL): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

export async function createSoakDatabase(): Promise<SoakDatabase> {
  const name = `soak_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  await withAdmin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    query: <T>(sql: string, params: unknown[] = []) =>
      withAdmin(async (client) => (await client.query(sql, params)).rows as T[], url.toString()),
    // WITH (FORCE) ends whatever sessions a killed worker left behind.
    drop: () => withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}
