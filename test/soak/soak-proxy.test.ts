/** The soak's pieces (bench/soak): its TCP proxy cuts a live PostgreSQL connection, refuses new ones, then forwards again. */
import { Client } from "pg";
import { startCuttableProxy, type CuttableProxy } from "../../bench/soak/proxy";
import { createTestDatabase, DIALECTS, PG_ADMIN_URL, type TestDatabase } from "../harness";

const describePostgres = DIALECTS.includes("postgres") ? describe : describe.skip;

/** Connects through the proxy; resolves with the client, or with the connection error's code. */
async function connectThrough(url: string): Promise<Client | string> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return client;
  } catch (error) {
    return String((error as NodeJS.ErrnoException).code ?? (error as Error).message);
  }
}

describePostgres("soak: the cuttable proxy in front of PostgreSQL", () => {
  let database: TestDatabase;
  let proxy: CuttableProxy;
  const open: Client[] = [];
  beforeAll(async () => {
    database = await createTestDatabase("postgres");
    const target = new URL(PG_ADMIN_URL);
    proxy = await startCuttableProxy({ host: target.hostname, port: Number(target.port || 5432) });
  });
  afterAll(async () => {
    await Promise.all(open.map((client) => client.end().catch(() => undefined)));
    await proxy?.close();
    await database?.drop();
  });

  it("cuts an open connection, refuses new ones while cut, and forwards again afterwards", async () => {
    const url = proxy.urlFor(database.url);
    const before = await connectThrough(url);
    if (typeof before === "string") throw new Error(`could not connect through the proxy: ${before}`);
    open.push(before);
    expect((await before.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);

    const lost = new Promise<string>((resolve) =>
      before.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message)),
    );
    const cut = proxy.cut(1_000);
    expect(proxy.isCut).toBe(true);
    // The connection open at the cut is reset (the driver sees the line drop), not left hanging.
    expect(await lost).toBe("ECONNRESET");
    await expect(before.query("SELECT 1")).rejects.toThrow();
    // A connection attempted during the cut is reset at once.
    expect(await connectThrough(url)).toBe("ECONNRESET");
    await cut;

    expect(proxy.isCut).toBe(false);
    const after = await connectThrough(url);
    if (typeof after === "string") throw new Error(`the proxy did not forward after the cut: ${after}`);
    open.push(after);
    expect((await after.query("SELECT 2 AS two")).rows).toEqual([{ two: 2 }]);
    // One reset at the cut, one refusal during it.
    expect(proxy.resets).toBe(2);
  });
});
