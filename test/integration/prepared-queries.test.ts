/** Queries compiled once and SQLite statements prepared once: same answers as fresh ones, changes seen at once. */
import { createDb, type DatabaseHandle } from "../../src/db/database";
import { migrateToLatest } from "../../src/db/migrate";
import { preparedQuery } from "../../src/db/prepared-query";
import { PostgresTokenSubjectReader, SqliteTokenSubjectReader } from "../../src/db/token-subjects";
import { UserStore } from "../../src/users/user.store";
import { createTestDatabase, DIALECTS, uniqueName, type TestDatabase } from "../harness";

describe.each(DIALECTS)("prepared queries (%s)", (dialect) => {
  let database: TestDatabase;
  let handle: DatabaseHandle;
  let other: DatabaseHandle;
  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    handle = createDb(database.url);
    await migrateToLatest(handle.db);
    // A second connection to the same database, as the CLI or another worker would hold.
    other = createDb(database.url);
  });
  afterAll(async () => {
    await handle?.close();
    await other?.close();
    await database?.drop();
  });

  const newUser = (store: UserStore) =>
    store.createUser({ username: uniqueName("prepared"), passwordHash: "$argon2id$placeholder", scopes: ["me", "items"] });

  it("answers each call with its own arguments, and nothing for an unknown id", async () => {
    const select = preparedQuery(handle.db, (id: string) => handle.db.selectFrom("users").select(["id", "username"]).where("id", "=", id), [
      "(id)",
    ]);
    const store = new UserStore(handle.db);
    const [a, b] = [await newUser(store), await newUser(store)];
    expect(await select(a.id)).toEqual([{ id: a.id, username: a.username }]);
    expect(await select(b.id)).toEqual([{ id: b.id, username: b.username }]);
    expect(await select("00000000-0000-4000-8000-000000000000")).toEqual([]);
  });

  it("refuses a query whose parameters are not exactly its arguments", () => {
    expect(() =>
      preparedQuery(
        handle.db,
        (id: string) => handle.db.selectFrom("users").select("id").where("id", "=", id).where("username", "=", "constant"),
        ["(id)"],
      ),
    ).toThrow(/not the arguments/);
  });

  // As the app builds it: on a SQLite file the lookup runs on the read-only connection.
  const appStore = () => new UserStore(handle.db, undefined, handle.tokenSubjects);

  it("uses the read-only connection on a SQLite file, and the batching reader on PostgreSQL", () => {
    const expected = dialect === "sqlite" ? SqliteTokenSubjectReader : PostgresTokenSubjectReader;
    expect(handle.tokenSubjects).toBeInstanceOf(expected);
  });

  it("sees a change made on another connection at the next lookup (findTokenSubject)", async () => {
    const store = appStore();
    const created = await newUser(store);
    expect((await store.findTokenSubject(created.id))?.user.disabled).toBe(false);
    await new UserStore(other.db).setDisabled(created.username, true);
    expect((await store.findTokenSubject(created.id))?.user.disabled).toBe(true);
    await new UserStore(other.db).setDisabled(created.username, false);
    expect((await store.findTokenSubject(created.id))?.user.disabled).toBe(false);
  });

  it("sees only committed changes, and does not wait for a transaction in progress", async () => {
    const store = appStore();
    const created = await newUser(store);
    await handle.db.transaction().execute(async (trx) => {
      await trx.updateTable("users").set({ disabled: 1 }).where("id", "=", created.id).execute();
      expect((await store.findTokenSubject(created.id))?.user.disabled).toBe(false);
    });
    expect((await store.findTokenSubject(created.id))?.user.disabled).toBe(true);
  });

  it("keeps answering after the schema changes under a statement prepared before", async () => {
    const store = appStore();
    const created = await newUser(store);
    expect((await store.findTokenSubject(created.id))?.user).toEqual(created);
    await other.db.schema.alterTable("users").addColumn("bench_extra", "text").execute();
    expect((await store.findTokenSubject(created.id))?.user).toEqual(created);
    await other.db.schema.alterTable("users").dropColumn("bench_extra").execute();
    expect((await store.findTokenSubject(created.id))?.user).toEqual(created);
  });
});
