/** Logins on hashes other systems made (test/fixtures): verified as their source did, then upgraded once. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DIALECTS, startTestServer, type TestServer } from "../harness";

interface Vector {
  id: string;
  password: string;
  hash: string;
  wrong: string;
  also_verifies?: string[];
}
const { vectors } = JSON.parse(readFileSync(join(__dirname, "..", "fixtures", "legacy-hashes.json"), "utf8")) as { vectors: Vector[] };
const vector = (id: string) => vectors.find((v) => v.id === id)!;
const LOGIN = "mutation Login($u: String!, $p: String!) { login(username: $u, password: $p) { scope } }";
const CURRENT = /^\$argon2id\$v=19\$m=1024,t=1,p=1\$/;

describe.each(DIALECTS)("legacy hashes at login (%s)", (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ dialect });
  });
  afterAll(async () => server?.close());

  const storedHash = async (id: string) =>
    (await server.app.database.db.selectFrom("users").select("password_hash").where("id", "=", id).executeTakeFirstOrThrow()).password_hash;
  const login = async (username: string, password: string) => (await server.gql(LOGIN, { u: username, p: password })).body;

  it.each(["bcrypt-2a-1", "bcrypt-2y-2", "argon2i-2", "argon2d-1", "argon2id-4"])("logs in on vector %s and upgrades it to the current argon2id policy", async (id) => {
    const { password, hash } = vector(id);
    const user = await server.createUser({ prefix: "legacy", passwordHash: hash });
    expect(await login(user.username, password)).toEqual({ data: { login: { scope: "me items" } } });
    const upgraded = await storedHash(user.id);
    expect(upgraded).toMatch(CURRENT);
    expect(await login(user.username, password)).toEqual({ data: { login: { scope: "me items" } } });
    expect(await storedHash(user.id)).toBe(upgraded);
  });

  it("never writes the hash after a failed login", async () => {
    const { hash, wrong } = vector("bcrypt-2b-1");
    const user = await server.createUser({ prefix: "failed", passwordHash: hash });
    const body = await login(user.username, wrong);
    expect(body.errors).toEqual([expect.objectContaining({ message: "Incorrect username or password" })]);
    expect(await storedHash(user.id)).toBe(hash);
  });

  it("P5/P6: a bcrypt password past 72 bytes verifies as bcrypt saw it, then counts in full once upgraded", async () => {
    // 25 x U+20AC: 75 bytes, of which bcrypt saw 72; also_verifies differs only after byte 72.
    const { password, hash, also_verifies } = vector("bcrypt-2b-6");
    const sameFirst72 = also_verifies![0]!;
    const user = await server.createUser({ prefix: "long", passwordHash: hash });

    expect((await login(user.username, sameFirst72)).data).toEqual({ login: { scope: "me items" } });
    // The upgrade hashed what was typed, in full: now only that exact password works.
    expect(await storedHash(user.id)).toMatch(CURRENT);
    expect((await login(user.username, sameFirst72)).data).toEqual({ login: { scope: "me items" } });
    expect((await login(user.username, password)).errors).toEqual([expect.objectContaining({ message: "Incorrect username or password" })]);
  });
});
