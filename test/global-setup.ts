/**
 * Jest global setup: decides once whether the PostgreSQL suites run. With REQUIRE_POSTGRES=true
 * (CI) an unreachable PostgreSQL fails the run; otherwise its suites are skipped with one line.
 */
import { Client } from "pg";

export default async function globalSetup(): Promise<void> {
  const wanted = (process.env.TEST_DIALECTS ?? "sqlite,postgres").split(",").map((d) => d.trim());
  if (!wanted.includes("postgres")) return;
  const url = process.env.PG_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("select 1");
  } catch (error) {
    if (process.env.REQUIRE_POSTGRES === "true") {
      throw new Error(`PostgreSQL is required (REQUIRE_POSTGRES=true) but does not answer at ${url}: ${String(error)}`);
    }
    process.stdout.write(`PostgreSQL does not answer at ${url}: skipping the PostgreSQL suites (sqlite only).\n`);
    process.env.TEST_DIALECTS = wanted.filter((d) => d !== "postgres").join(",");
  } finally {
    await client.end().catch(() => undefined);
  }
}
