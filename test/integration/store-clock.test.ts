/** The user stores write created_at and updated_at from the injected clock, never the system's. */
import { createDb, type DatabaseHandle } from "../../src/db/database";
import { migrateToLatest } from "../../src/db/migrate";
import { skeletonKey } from "../../src/users/skeleton";
import { usernameKey } from "../../src/users/user-fields";
import { UserImportStore } from "../../src/users/user-import.store";
import { UserStore } from "../../src/users/user.store";
import { createTestDatabase, DIALECTS, uniqueName, type TestDatabase } from "../harness";
import { movableClock } from "../support";

const CREATED = Date.UTC(2001, 2, 3, 4, 5, 6);
const UPDATED = Date.UTC(2002, 3, 4, 5, 6, 7);

describe.each(DIALECTS)("stores and the clock (%s)", (dialect) => {
  let database: TestDatabase;
  let handle: DatabaseHandle;
  const clock = movableClock(CREATED);
  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    handle = createDb(database.url);
    await migrateToLatest(handle.db);
  });
  afterAll(async () => {
    await handle?.close();
    await database?.drop();
  });

  const stamps = (id: string) =>
    handle.db.selectFrom("users").select(["created_at", "updated_at"]).where("id", "=", id).executeTakeFirstOrThrow();
  const at = (created: number, updated = created) => ({
    created_at: new Date(created).toISOString(),
    updated_at: new Date(updated).toISOString(),
  });

  it("UserStore: createUser and replacePasswordHash", async () => {
    clock.set(CREATED);
    const store = new UserStore(handle.db, clock);
    const user = await store.createUser({ username: uniqueName("clock"), passwordHash: "$argon2id$old", scopes: ["me"] });
    expect(await stamps(user.id)).toEqual(at(CREATED));
    clock.set(UPDATED);
    expect(await store.replacePasswordHash(user.id, "$argon2id$old", "$argon2id$new")).toBe(true);
    expect(await stamps(user.id)).toEqual(at(CREATED, UPDATED));
  });

  it("UserImportStore: importBatch", async () => {
    clock.set(CREATED);
    const username = uniqueName("clockimport");
    const store = new UserImportStore(handle.db, ["me"], clock);
    const line = { username, usernameKey: usernameKey(username), skeletonKey: skeletonKey(username), passwordHash: null };
    const outcome = await store.importBatch([line], { update: false, keepsPasswordHash: () => false });
    expect(outcome.created).toBe(1);
    const { id } = await handle.db.selectFrom("users").select("id").where("username_key", "=", line.usernameKey).executeTakeFirstOrThrow();
    expect(await stamps(id)).toEqual(at(CREATED));
  });
});
