/** `graphql-auth users add|disable|enable|list` on a real SQLite file: output, exit codes, messages. */
import { createTestDatabase, uniqueName, type TestDatabase } from "../harness";
import { cliEnv, runCli } from "./run-cli";

describe("graphql-auth users", () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  beforeAll(async () => {
    database = await createTestDatabase("sqlite");
    env = cliEnv(database.url);
  });
  afterAll(async () => database?.drop());

  const listJson = async () => {
    const result = await runCli(["users", "list", "--json"], env);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    return JSON.parse(result.stdout) as Array<Record<string, unknown>>;
  };

  it("adds a user with every option and lists it as JSON without any hash", async () => {
    const username = uniqueName("Ann");
    const result = await runCli(
      [
        "users",
        "add",
        username,
        "--email",
        "ann@example.com",
        "--full-name",
        "Ann Example",
        "--scopes",
        "me items extra",
        "--disabled",
        "--password-stdin",
      ],
      env,
      "correct horse battery\n",
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^Added user ${username} \\(id [0-9a-f-]{36}, scopes: me items extra, disabled\\)\\n$`));

    const listed = (await listJson()).find((u) => u.username === username);
    expect(listed).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      username,
      email: "ann@example.com",
      fullName: "Ann Example",
      disabled: true,
      scopes: ["me", "items", "extra"],
      emailVerified: true,
    });
  });

  it("marks the address verified unless --no-email-verified, and takes DEFAULT_SCOPES without --scopes", async () => {
    const add = (args: string[], extra: Record<string, string> = {}) =>
      runCli(["users", "add", ...args, "--password-stdin"], { ...env, ...extra }, "a-long-enough-pw");
    const verified = uniqueName("ver");
    expect((await add([verified, "--email", "v@example.com"])).code).toBe(0);
    const unverified = uniqueName("unver");
    const result = await add([unverified, "--email", "u@example.com", "--no-email-verified"]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const line = `^Added user ${unverified} \\(id [0-9a-f-]{36}, scopes: me items, email unverified\\)\\n$`;
    expect(result.stdout).toMatch(new RegExp(line));
    const narrow = uniqueName("narrow");
    expect((await add([narrow], { DEFAULT_SCOPES: "me" })).code).toBe(0);
    const listed = await listJson();
    expect(listed.find((u) => u.username === verified)).toMatchObject({
      emailVerified: true,
      scopes: ["me", "items"],
    });
    expect(listed.find((u) => u.username === unverified)).toMatchObject({ emailVerified: false });
    expect(listed.find((u) => u.username === narrow)).toMatchObject({ scopes: ["me"] });
  });

  it("gives a new user the scopes me and items by default, and null email and full name", async () => {
    const username = uniqueName("dflt");
    expect((await runCli(["users", "add", username, "--password-stdin"], env, "a-long-enough-pw")).code).toBe(0);
    expect((await listJson()).find((u) => u.username === username)).toMatchObject({
      email: null,
      fullName: null,
      disabled: false,
      scopes: ["me", "items"],
    });
  });

  it("refuses a username that exists in another case, or in fullwidth form, with exit 1 and one line", async () => {
    const username = uniqueName("Dup");
    expect((await runCli(["users", "add", username, "--password-stdin"], env, "first-password")).code).toBe(0);

    const fullwidth = [...username.toUpperCase()]
      .map((c) => (/[A-Z0-9]/.test(c) ? String.fromCodePoint(c.codePointAt(0)! + 0xfee0) : c))
      .join("");
    for (const variant of [username.toLowerCase(), username.toUpperCase(), fullwidth]) {
      const result = await runCli(["users", "add", variant, "--password-stdin"], env, "second-password");
      expect(result).toEqual({ code: 1, stdout: "", stderr: `error: Username already exists: ${variant.normalize("NFKC")}\n` });
    }
    expect((await listJson()).filter((u) => String(u.username).toLowerCase() === username.toLowerCase())).toHaveLength(1);
  });

  it("refuses bad input before creating anything", async () => {
    const cases: Array<[string[], string, string]> = [
      [
        ["users", "add", "has space", "--password-stdin"],
        "long-enough-pw",
        "error: Invalid username: may contain only letters, digits and . _ @ + -\n",
      ],
      [["users", "add", "   ", "--password-stdin"], "long-enough-pw", "error: Invalid username: must not be empty\n"],
      [["users", "add", "short_pw", "--password-stdin"], "1234567\n", "error: Password must be at least 8 characters\n"],
      [["users", "add", "long_pw", "--password-stdin"], "x".repeat(1025), "error: Password must be at most 1024 characters\n"],
      [["users", "add", "blank_pw", "--password-stdin"], " ".repeat(10), "error: Password must not be only white space\n"],
      [["users", "add", "nul_pw", "--password-stdin"], "abcd\0efgh", "error: Password must not contain a NUL character\n"],
      [
        ["users", "add", "no_stdin_flag"],
        "long-enough-pw",
        "error: No terminal to prompt for the password: pipe it on standard input with --password-stdin\n",
      ],
      [
        ["users", "add", "bad_email", "--email", "not-an-address", "--password-stdin"],
        "long-enough-pw",
        "error: Invalid email: does not look like an address\n",
      ],
      [
        ["users", "add", "bad_scope", "--scopes", 'me "quoted"', "--password-stdin"],
        "long-enough-pw",
        'error: Not a valid scope: "\\"quoted\\""\n',
      ],
      [
        ["users", "add", "bad_name", "--full-name", "two\nlines", "--password-stdin"],
        "long-enough-pw",
        "error: Invalid full name: contains control or format characters\n",
      ],
    ];
    for (const [args, input, stderr] of cases) {
      const result = await runCli(args, env, input);
      expect({ args, ...result }).toEqual({ args, code: 1, stdout: "", stderr });
    }
    const names = (await listJson()).map((u) => u.username);
    for (const name of ["short_pw", "long_pw", "blank_pw", "nul_pw", "no_stdin_flag", "bad_email", "bad_scope", "bad_name"]) {
      expect(names).not.toContain(name);
    }
  });

  it("accepts a password of exactly 8 and of exactly 1024 characters", async () => {
    for (const password of ["k7#Vq9!m", "€".repeat(1024)]) {
      const result = await runCli(["users", "add", uniqueName("bound"), "--password-stdin"], env, password);
      expect(result).toMatchObject({ code: 0, stderr: "" });
    }
  });

  it("never takes the password from an argument", async () => {
    const result = await runCli(["users", "add", uniqueName("arg"), "--password", "in-the-process-list"], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: unknown option '--password'/);
  });

  it("disables and enables a user by any case of its name, and says which", async () => {
    const username = uniqueName("Toggle");
    await runCli(["users", "add", username, "--password-stdin"], env, "toggle-password");

    expect(await runCli(["users", "disable", username.toUpperCase()], env)).toEqual({
      code: 0,
      stdout: `Disabled user ${username}\n`,
      stderr: "",
    });
    expect((await listJson()).find((u) => u.username === username)?.disabled).toBe(true);
    expect(await runCli(["users", "enable", username.toLowerCase()], env)).toEqual({
      code: 0,
      stdout: `Enabled user ${username}\n`,
      stderr: "",
    });
    expect((await listJson()).find((u) => u.username === username)?.disabled).toBe(false);
  });

  it("deletes a user by any case of its name, and says which; a second delete finds no such user", async () => {
    const username = uniqueName("Gone");
    await runCli(["users", "add", username, "--password-stdin"], env, "delete-me-password");
    expect(await runCli(["users", "delete", username.toLowerCase()], env)).toEqual({
      code: 0,
      stdout: `Deleted user ${username}\n`,
      stderr: "",
    });
    expect((await listJson()).find((u) => u.username === username)).toBeUndefined();
    expect(await runCli(["users", "delete", username], env)).toEqual({
      code: 1,
      stdout: "",
      stderr: `error: No such user: ${username}\n`,
    });
  });

  it("answers exit 1 and one line for an unknown user", async () => {
    for (const action of ["disable", "enable", "delete", "unlock"]) {
      expect(await runCli(["users", action, "ghost_nobody"], env)).toEqual({
        code: 1,
        stdout: "",
        stderr: "error: No such user: ghost_nobody\n",
      });
    }
  });

  it("lists users as a readable table without hashes", async () => {
    const username = uniqueName("Table");
    await runCli(
      ["users", "add", username, "--email", "t@example.com", "--full-name", "Tab Le", "--disabled", "--password-stdin"],
      env,
      "table-password",
    );
    const result = await runCli(["users", "list"], env);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^USERNAME +STATUS +SCOPES +EMAIL +FULL NAME +ID$/);
    const row = lines.find((line) => line.startsWith(`${username} `));
    expect(row).toMatch(new RegExp(`^${username} +disabled +me items +t@example\\.com +Tab Le +[0-9a-f-]{36}$`));
    // Columns line up: every row's STATUS starts where the header's does.
    expect(row!.indexOf("disabled")).toBe(lines[0]!.indexOf("STATUS"));
    expect(result.stdout).not.toContain("$argon2");
  });

  it("says so when there are no users", async () => {
    const empty = await createTestDatabase("sqlite");
    try {
      expect(await runCli(["users", "list"], cliEnv(empty.url))).toEqual({ code: 0, stdout: "No users.\n", stderr: "" });
      expect(await runCli(["users", "list", "--json"], cliEnv(empty.url))).toEqual({ code: 0, stdout: "[]\n", stderr: "" });
    } finally {
      await empty.drop();
    }
  });

  it("answers usage errors from the argument parser with exit 1", async () => {
    expect(await runCli(["users", "add"], env)).toEqual({ code: 1, stdout: "", stderr: "error: missing required argument 'username'\n" });
    const unknown = await runCli(["users", "remove", "x"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: unknown command 'remove'/);
  });
});
