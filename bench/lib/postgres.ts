/** A PostgreSQL database of the bench's own: made for one run and dropped after it. */
import { randomBytes } from "node:crypto";
import { Client } from "pg";

/** The server the bench tries: BENCH_POSTGRES_URL, else the local one with trust auth. */
export const POSTGRES_ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** Creates a database with a unique name on `adminUrl`; undefined when that server does not answer. */
export async function createPostgresDatabase(
  adminUrl = POSTGRES_ADMIN_URL,
): Promise<{ url: string; drop: () => Promise<void> } | undefined> {
  const name = `graphql_auth_bench_${randomBytes(4).toString("hex")}`;
  const admin = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
  } catch {
    return undefined;
  } finally {
    await admin.end().catch(() => undefined);
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
