import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importUsers, type ImportDeps, type ImportProgress } from "../../src/users/import-users";
import { UserImportStore } from "../../src/users/user-import.store";
import { DIALECTS, startTestServer, uniqueName, type TestServer } from "../harness";
import { HOSTILE_HASHES, LEGACY_VECTORS, ONE_VECTOR_PER_FORMAT } from "../legacy-vectors";

const DJANGO_PBKDF2 = LEGACY_VECTORS.find((v) => v.format === "django-pbkdf2-sha256")!;
const PASSLIB_PBKDF2 = LEGACY_VECTORS.find((v) => v.format === "passlib-pbkdf2-sha256")!;

describe.each(DIALECTS)("users import (%s)", (dialect) => {
  let server: TestServer;
  let deps: ImportDeps;
  const dir = mkdtempSync(join(tmpdir(), "graphql-auth-import-"));
  beforeAll(async () => {
    server = await startTestServer({ dialect, env: { LOGIN_MAX_FAILURES: "1000" } });
    deps = { store: new UserImportStore(server.app.database.db, ["me", "items"], server.app.auth.clock), policy: server.app.config.argon2 };
  });
  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Writes lines (objects become JSON, strings are written as they are) to a new file. */
  const file = (lines: ReadonlyArray<object | string>): string => {
    const path = join(dir, `${uniqueName("file")}.jsonl`);
    writeFileSync(path, lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n") + "\n");
    return path;
  };
  const row = async (username: string) =>
    server.app.database.db.selectFrom("users").selectAll().where("username_key", "=", username.toLowerCase()).executeTakeFirst();
  const login = async (username: string, password: string) =>
    (await server.gql("mutation L($u: String!, $p: String!) { login(username: $u, password: $p) { scope } }", { u: username, p: password }))
      .body;

  it("imports a user of every format, each of whom then logs in with the unchanged password", async () => {
    const users = ONE_VECTOR_PER_FORMAT.map((v) => ({ vector: v, username: uniqueName("imp") }));
    const path = file(users.map(({ vector, username }) => ({ username, password_hash: vector.hash, email: `${username}@example.com` })));
    const result = await importUsers(deps, path);
    expect(result).toEqual({
      imported: users.length,
      created: users.length,
      updated: 0,
      skipped: 0,
      withoutPassword: 0,
      rejected: 0,
      rejections: [],
    });
    for (const { vector, username } of users) {
      expect((await row(username))?.password_hash).toBe(vector.hash);
      expect(await login(username, vector.password)).toEqual({ data: { login: { scope: "me items" } } });
      expect((await row(username))?.password_hash).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
    }
  });

  it("reads every field, scopes as an array or as a space-separated string", async () => {
    const [a, b, c] = [uniqueName("fld"), uniqueName("fld"), uniqueName("fld")];
    const path = file([
      {
        username: a,
        password_hash: DJANGO_PBKDF2.hash,
        email: "a@example.com",
        full_name: "Ada A",
        scopes: ["me", "items", "me"],
        disabled: true,
      },
      { username: b, password_hash: PASSLIB_PBKDF2.hash, email: "", full_name: "", scopes: "me  items", is_staff: false },
      { username: c, password_hash: PASSLIB_PBKDF2.hash, scopes: [], disabled: false },
    ]);
    expect(await importUsers(deps, path)).toMatchObject({ created: 3, rejected: 0 });
    expect(await server.app.users.findUserByUsername(a)).toMatchObject({
      email: "a@example.com",
      fullName: "Ada A",
      scopes: ["me", "items"],
      disabled: true,
    });
    // Django stores "" for "no e-mail": it becomes null, not an address.
    expect(await server.app.users.findUserByUsername(b)).toMatchObject({
      email: null,
      fullName: null,
      scopes: ["me", "items"],
      disabled: false,
    });
    expect(await server.app.users.findUserByUsername(c)).toMatchObject({ scopes: [], disabled: false });
    expect((await login(a, DJANGO_PBKDF2.password)).errors?.[0]?.message).toBe("Inactive user");
  });

  it("reports each kind of bad line by number with its reason, and imports the rest", async () => {
    const good = uniqueName("good");
    const dup = uniqueName("dup");
    const lines: Array<object | string> = [
      { username: good, password_hash: DJANGO_PBKDF2.hash }, // 1
      "{not json", // 2
      "[1, 2]", // 3
      "", // 4: blank, ignored
      { password_hash: DJANGO_PBKDF2.hash }, // 5
      { username: "has space", password_hash: DJANGO_PBKDF2.hash }, // 6
      { username: "x".repeat(151), password_hash: DJANGO_PBKDF2.hash }, // 7
      { username: uniqueName("bad"), password_hash: 12 }, // 8
      { username: uniqueName("bad"), password_hash: "md5$salt$hash" }, // 9
      { username: uniqueName("bad"), password_hash: "$unknown$abc" }, // 10
      { username: uniqueName("bad"), password_hash: "$2b$10$short" }, // 11
      { username: uniqueName("bad"), password_hash: "$2b$31$K/VgpwnOJ.znlRwJ5pPnvu36qwZuyOC41V0Yg7NwusFjlhIO4i4/2" }, // 12
      { username: uniqueName("bad"), password_hash: "*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9" }, // 13: MySQL, not the `*` marker
      { username: uniqueName("bad"), password_hash: DJANGO_PBKDF2.hash, email: "not an address" }, // 14
      { username: uniqueName("bad"), password_hash: DJANGO_PBKDF2.hash, email: 5 }, // 15
      { username: uniqueName("bad"), password_hash: DJANGO_PBKDF2.hash, full_name: "n".repeat(256) }, // 16
      { username: uniqueName("bad"), password_hash: DJANGO_PBKDF2.hash, scopes: { me: true } }, // 17
      { username: uniqueName("bad"), password_hash: DJANGO_PBKDF2.hash, scopes: 'me "quoted"' }, // 18
      { username: uniqueName("bad"), password_hash: DJANGO_PBKDF2.hash, disabled: "yes" }, // 19
      { username: dup, password_hash: DJANGO_PBKDF2.hash }, // 20
      { username: dup.toUpperCase(), password_hash: PASSLIB_PBKDF2.hash }, // 21
      { username: uniqueName("bad"), password_hash: DJANGO_PBKDF2.hash, full_name: "nul\u0000byte" }, // 22
    ];
    const result = await importUsers(deps, file(lines));
    expect(result.rejections).toEqual([
      { line: 2, reason: "not valid JSON" },
      { line: 3, reason: "not a JSON object" },
      { line: 5, reason: "username is missing or not a string" },
      { line: 6, reason: "Invalid username: may contain only letters, digits and . _ @ + -" },
      { line: 7, reason: "Invalid username: must be at most 150 characters" },
      { line: 8, reason: "password_hash is missing or not a string" },
      { line: 9, reason: "password_hash: unsupported format (django-md5)" },
      { line: 10, reason: "password_hash: unrecognised format" },
      { line: 11, reason: "password_hash: malformed bcrypt hash" },
      { line: 12, reason: "password_hash: bcrypt cost out of bounds (refused, never computed)" },
      { line: 13, reason: "password_hash: unsupported format (mysql41)" },
      { line: 14, reason: "Invalid email: does not look like an address" },
      { line: 15, reason: "email must be a string" },
      { line: 16, reason: "Invalid full name: must be 1 to 255 characters" },
      { line: 17, reason: "scopes must be an array of strings or a space-separated string" },
      { line: 18, reason: 'scopes: invalid scope "\\"quoted\\""' },
      { line: 19, reason: "disabled must be true or false" },
      { line: 21, reason: `username ${dup.toUpperCase()} already appears on line 20` },
      { line: 22, reason: "Invalid full name: contains control or format characters" },
    ]);
    expect(result).toMatchObject({ imported: 2, created: 2, skipped: 0, rejected: 19 });
    expect((await row(dup))?.password_hash).toBe(DJANGO_PBKDF2.hash);
    expect(await row(good)).toMatchObject({ username: good, password_hash: DJANGO_PBKDF2.hash });
  });

  it("rejects every hostile or corrupt hash of the fixture at import", async () => {
    // The fixture's Django unusable passwords (`!…`) are accounts without a password, imported below.
    const hostile = HOSTILE_HASHES.filter((h) => !h.hash.startsWith("!"));
    expect(hostile.length).toBeGreaterThan(10);
    const lines = hostile.map((h) => ({ username: uniqueName("hostile"), password_hash: h.hash }));
    const result = await importUsers(deps, file(lines));
    expect(result).toMatchObject({ imported: 0, rejected: hostile.length });
    expect(result.rejections.map((r) => r.line)).toEqual(hostile.map((_, i) => i + 1));
    for (const r of result.rejections) expect(r.reason).toMatch(/^password_hash/);
    // No reason repeats any part of a hash.
    for (const [i, r] of result.rejections.entries()) if (hostile[i]!.hash.length > 8) expect(r.reason).not.toContain(hostile[i]!.hash);
  });

  it("keeps accounts with an unusable-password marker (Django `!…`, passlib/Unix `*`, `!`, `!!`) as accounts without a password", async () => {
    const markers = [
      "!",
      "!PkizdE5Qe0WpcqeCkcE1gQMLiLrsOc4ioyJHwkSl",
      "*",
      "!!",
      "!$2b$12$EixZaYVK1fsbw1ZfbX3OXePaWxn96p36WQoeG6Lruj3vjPGga31lW",
    ];
    const names = markers.map(() => uniqueName("sso"));
    const usable = uniqueName("pw");
    const path = file([
      ...markers.map((marker, i) => ({ username: names[i], password_hash: marker, email: `${names[i]}@example.com` })),
      { username: usable, password_hash: DJANGO_PBKDF2.hash },
    ]);
    expect(await importUsers(deps, path)).toEqual({
      imported: 6,
      created: 6,
      updated: 0,
      skipped: 0,
      withoutPassword: 5,
      rejected: 0,
      rejections: [],
    });
    for (const name of names) expect(await row(name)).toMatchObject({ password_hash: null, email: `${name}@example.com` });
    for (const name of names)
      expect(await server.app.users.findUserByUsername(name)).toMatchObject({ disabled: false, scopes: ["me", "items"] });

    // Logging in fails with the wrong-password answer, after the one dummy verification a wrong
    // password or an unknown username costs too (ATTACKS P9): whatever is tried, the marker included.
    const wrong = await login(usable, "not the password");
    for (const [i, name] of names.entries()) {
      for (const password of ["", "!", markers[i]!, "secret"]) {
        const before = server.app.passwords.completedTasks;
        const body = await login(name, password);
        expect(body.errors?.[0]).toMatchObject({ message: "Incorrect username or password", extensions: { code: "UNAUTHENTICATED" } });
        expect(body.errors?.[0]?.message).toBe(wrong.errors?.[0]?.message);
        expect(server.app.passwords.completedTasks - before).toBe(1);
      }
    }

    // Until a password is set: here the operator's `users import --update` with a real hash.
    expect(await importUsers(deps, file([{ username: names[0], password_hash: DJANGO_PBKDF2.hash }]), { update: true })).toMatchObject({
      imported: 1,
      updated: 1,
      withoutPassword: 0,
    });
    expect(await login(names[0]!, DJANGO_PBKDF2.password)).toEqual({ data: { login: { scope: "me items" } } });

    // And the reverse: the old system made an account unusable after an earlier import.
    expect(await importUsers(deps, file([{ username: usable, password_hash: "!" }]), { update: true })).toMatchObject({
      updated: 1,
      withoutPassword: 1,
    });
    expect((await row(usable))?.password_hash).toBeNull();
  });

  it("skips existing usernames in any case unless --update, and a re-run changes nothing", async () => {
    const existing = await server.createUser({ prefix: "exists", passwordHash: PASSLIB_PBKDF2.hash });
    const before = await row(existing.username);
    const fresh = uniqueName("fresh");
    const lines = [
      { username: existing.username.toUpperCase(), password_hash: DJANGO_PBKDF2.hash, email: "new@example.com", scopes: "me" },
      { username: fresh, password_hash: PASSLIB_PBKDF2.hash, full_name: "Fresh" },
    ];
    const path = file(lines);

    expect(await importUsers(deps, path)).toMatchObject({ imported: 1, created: 1, updated: 0, skipped: 1, rejected: 0 });
    expect(await row(existing.username)).toEqual(before);
    const afterFirst = [await row(existing.username), await row(fresh)];

    // The same file again: everything exists, nothing is written.
    expect(await importUsers(deps, path)).toMatchObject({ imported: 0, skipped: 2, rejected: 0 });
    expect([await row(existing.username), await row(fresh)]).toEqual(afterFirst);

    // --update writes the fields a line states, and leaves the others (full_name, disabled) alone.
    expect(await importUsers(deps, path, { update: true })).toMatchObject({ imported: 1, created: 0, updated: 1, skipped: 1 });
    expect(await row(existing.username)).toMatchObject({
      username: existing.username,
      password_hash: DJANGO_PBKDF2.hash,
      email: "new@example.com",
      full_name: before!.full_name,
      scopes: "me",
    });
    expect(await login(existing.username, DJANGO_PBKDF2.password)).toEqual({ data: { login: { scope: "me" } } });

    // That login upgraded the hash. --update again with the same file: the argon2id hash written
    // here is newer than the export and stays; nothing else differs, so nothing is written.
    const settled = [await row(existing.username), await row(fresh)];
    expect(settled[0]!.password_hash).toMatch(/^\$argon2id\$/);
    expect(await importUsers(deps, path, { update: true })).toMatchObject({ imported: 0, updated: 0, skipped: 2 });
    expect([await row(existing.username), await row(fresh)]).toEqual(settled);
  });

  it("commits in batches, reports progress up to the whole file, and rejects a duplicate across batches", async () => {
    const names = Array.from({ length: 5 }, () => uniqueName("batch"));
    const lines = [
      ...names.map((username) => ({ username, password_hash: PASSLIB_PBKDF2.hash })),
      { username: names[0], password_hash: PASSLIB_PBKDF2.hash },
    ];
    const path = file(lines);
    const seen: ImportProgress[] = [];
    const result = await importUsers(deps, path, { batchSize: 2, onProgress: (p) => seen.push(p) });
    expect(result).toMatchObject({
      created: 5,
      rejected: 1,
      rejections: [{ line: 6, reason: `username ${names[0]} already appears on line 1` }],
    });
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen.at(-1)).toEqual({ bytesRead: seen.at(-1)!.totalBytes, totalBytes: seen.at(-1)!.totalBytes, lines: 6 });
  });

  it("fails with one clear error for a file it cannot read", async () => {
    await expect(importUsers(deps, join(dir, "missing.jsonl"))).rejects.toThrow(`Cannot read ${join(dir, "missing.jsonl")}: no such file`);
    await expect(importUsers(deps, dir)).rejects.toThrow(`Cannot read ${dir}: not a regular file`);
  });
});
