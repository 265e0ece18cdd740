/** passwords: argon2id written as PHC m,t,p; argon2 and bcrypt vectors from other libraries; NFKC; rehash; hostile hashes. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as argon2 from "argon2";
import { PasswordService } from "./passwords";

interface Vector {
  id: string;
  format: string;
  password: string;
  hash: string;
  wrong: string;
  also_verifies?: string[];
  also_rejects?: string[];
  truncation?: boolean;
}
interface Hostile {
  family: string;
  hash: string;
  why: string;
}
/** Vectors made by argon2-cffi and pyca/bcrypt (test/fixtures/README.md). */
const fixture = JSON.parse(readFileSync(join(__dirname, "..", "..", "test", "fixtures", "legacy-hashes.json"), "utf8")) as {
  vectors: Vector[];
  hostile: Hostile[];
};
const argon2Vectors = fixture.vectors.filter((v) => /^argon2(id|i|d)$/.test(v.format));
const bcryptVectors = fixture.vectors.filter((v) => /^bcrypt-2[aby]$/.test(v.format));
const hostile = fixture.hostile.filter((h) => h.family === "bcrypt" || h.family === "argon2");

const POLICY = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
const CURRENT_PREFIX = "$argon2id$v=19$m=1024,t=1,p=1$";

/** The first `bytes` UTF-8 bytes of a password, as bcrypt would have seen them. */
const firstBytes = (text: string, bytes: number) => Buffer.from(text, "utf8").subarray(0, bytes).toString("utf8");

describe("PasswordService", () => {
  let passwords: PasswordService;
  beforeAll(async () => {
    passwords = await PasswordService.create(POLICY, 2);
  });
  afterAll(async () => passwords?.close());

  it("computes argon2 from the event loop, and bcrypt (plain JavaScript) in a worker thread", async () => {
    const hashed = await passwords.hash("correct horse battery");
    const [worker, all] = [passwords.workerTasks, passwords.completedTasks];
    expect((await passwords.verify("correct horse battery", hashed)).ok).toBe(true);
    expect([passwords.workerTasks - worker, passwords.completedTasks - all]).toEqual([0, 1]);
    const vector = bcryptVectors[0]!;
    expect((await passwords.verify(vector.password, vector.hash)).ok).toBe(true);
    expect([passwords.workerTasks - worker, passwords.completedTasks - all]).toEqual([1, 2]);
  });

  describe("new hashes", () => {
    it("are argon2id PHC strings with the parameters in m, t, p order", async () => {
      const hash = await passwords.hash("correct horse battery staple");
      expect(hash).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
      expect(await passwords.hash("correct horse battery staple")).not.toBe(hash);
    });

    it("are laid out exactly as argon2-cffi writes them, and the argon2 package reads them", async () => {
      const hash = await passwords.hash("correct horse battery staple");
      const cffi = argon2Vectors.find((v) => v.format === "argon2id" && v.hash.startsWith(CURRENT_PREFIX))!;
      const shape = (phc: string) => phc.replace(/\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/, "$<salt>$<hash>");
      expect(shape(hash)).toBe(shape(cffi.hash));
      expect(await argon2.verify(hash, "correct horse battery staple")).toBe(true);
    });

    it("verify, and need no rehash under the same policy", async () => {
      const hash = await passwords.hash("s3cret-enough");
      expect(await passwords.verify("s3cret-enough", hash)).toEqual({ ok: true, needsRehash: false });
      expect(await passwords.verify("s3cret-enougH", hash)).toEqual({ ok: false, needsRehash: false });
    });

    it('are of the NFKC form: "é" (U+00E9) verifies as "e" + U+0301, and the other way round', async () => {
      const composed = await passwords.hash("caf\u00e9 au lait");
      expect(await passwords.verify("cafe\u0301 au lait", composed)).toEqual({ ok: true, needsRehash: false });
      const decomposed = await passwords.hash("cafe\u0301 au lait");
      expect(await passwords.verify("caf\u00e9 au lait", decomposed)).toEqual({ ok: true, needsRehash: false });
    });

    it("are never truncated: a password past 72 bytes counts to its end", async () => {
      const long = `${"x".repeat(72)}tail`;
      const hash = await passwords.hash(long);
      expect((await passwords.verify(long, hash)).ok).toBe(true);
      expect((await passwords.verify(`${"x".repeat(72)}TAIL`, hash)).ok).toBe(false);
    });
  });

  it("asks for a rehash when the policy changes", async () => {
    const stronger = await PasswordService.create({ ...POLICY, memoryCost: 2048 }, 1);
    try {
      const old = await passwords.hash("policy-change");
      expect(await stronger.verify("policy-change", old)).toEqual({ ok: true, needsRehash: true });
      const current = await stronger.hash("policy-change");
      expect(current).toMatch(/^\$argon2id\$v=19\$m=2048,t=1,p=1\$/);
      expect(await stronger.verify("policy-change", current)).toEqual({ ok: true, needsRehash: false });
      expect(await passwords.verify("policy-change", current)).toEqual({ ok: true, needsRehash: true });
    } finally {
      await stronger.close();
    }
  });

  it("verifies an argon2 hash another system made of the raw, unnormalised password, and asks for a rehash", async () => {
    const raw = "cafe\u0301 noir";
    const foreign = await argon2.hash(raw, { type: argon2.argon2id, memoryCost: 1024, timeCost: 1, parallelism: 1 });
    expect(await passwords.verify(raw, foreign)).toEqual({ ok: true, needsRehash: true });
  });

  describe.each(argon2Vectors.map((v) => [v.id, v] as const))("argon2-cffi vector %s", (_id, vector) => {
    // The unicode vectors' `wrong` is the NFD form of their NFC password: the source system would
    // refuse it, because it hashed raw bytes.
    const wrongIsNfd = vector.wrong.normalize("NFKC") === vector.password.normalize("NFKC");

    it("verifies its password and refuses the wrong one", async () => {
      const result = await passwords.verify(vector.password, vector.hash);
      expect(result.ok).toBe(true);
      expect(result.needsRehash).toBe(!vector.hash.startsWith(CURRENT_PREFIX));
      if (!wrongIsNfd || vector.format !== "argon2id") expect((await passwords.verify(vector.wrong, vector.hash)).ok).toBe(false);
      for (const other of vector.also_rejects ?? []) expect((await passwords.verify(other, vector.hash)).ok).toBe(false);
      if (vector.truncation === false) expect((await passwords.verify(firstBytes(vector.password, 72), vector.hash)).ok).toBe(false);
    });

    if (wrongIsNfd && vector.format === "argon2id") {
      // KNOWN GAP (reported to the lead): an argon2id hash made elsewhere cannot be told from one of
      // ours, which are of the NFKC form, so its password's NFD form verifies too. Remove
      // `.failing` once stored hashes record whether they are normalised.
      it.failing("refuses the NFD form of the password (needs own/foreign argon2id told apart)", async () => {
        expect((await passwords.verify(vector.wrong, vector.hash)).ok).toBe(false);
      });
    }
  });

  describe.each(bcryptVectors.map((v) => [v.id, v] as const))("bcrypt vector %s", (_id, vector) => {
    it("verifies its password (as bcrypt saw it) and refuses the wrong one", async () => {
      expect(await passwords.verify(vector.password, vector.hash)).toEqual({ ok: true, needsRehash: true });
      expect((await passwords.verify(vector.wrong, vector.hash)).ok).toBe(false);
      for (const other of vector.also_verifies ?? []) expect((await passwords.verify(other, vector.hash)).ok).toBe(true);
      for (const other of vector.also_rejects ?? []) expect((await passwords.verify(other, vector.hash)).ok).toBe(false);
      if (vector.truncation) {
        expect(Buffer.byteLength(vector.password, "utf8")).toBeGreaterThan(72);
        // bcrypt only ever saw the first 72 UTF-8 bytes: those alone verify, when they end on a
        // whole character (otherwise also_verifies holds the cases).
        const cut = firstBytes(vector.password, 72);
        if (Buffer.byteLength(cut, "utf8") === 72) expect((await passwords.verify(cut, vector.hash)).ok).toBe(true);
      }
    });
  });

  // A hostile cost (bcrypt 2^31 rounds, argon2 4 GiB) would hang or exhaust this test if it were
  // ever computed: each is refused by inspection first, and reported in `refused`.
  describe.each(hostile.map((h) => [h.family, h.why, h] as const))("hostile %s hash: %s", (family, _why, entry) => {
    it("fails without being computed and is reported as refused", async () => {
      const result = await passwords.verify("correct horse battery staple", entry.hash);
      expect(result.ok).toBe(false);
      expect(result.needsRehash).toBe(false);
      expect(result.refused).toEqual({
        family: expect.any(String),
        reason: expect.stringMatching(/^(malformed|out-of-bounds|unknown-format)$/),
      });
      expect(PasswordService.inspect(entry.hash).ok).toBe(false);
      if (entry.hash.startsWith(family === "bcrypt" ? "$2b$" : "$argon2id$")) expect(result.refused!.family).toBe(family);
    }, 10_000);
  });

  it("refuses the fixture's generic hostile values, an empty or missing hash included", async () => {
    for (const entry of fixture.hostile.filter((h) => h.family === "generic")) {
      expect((await passwords.verify("correct horse battery staple", entry.hash)).ok).toBe(false);
    }
    expect(await passwords.verify("", "")).toEqual({ ok: false, needsRehash: false, refused: undefined });
    expect((await passwords.verify("anything", null)).ok).toBe(false);
  });

  it("reports out-of-bounds costs as such", async () => {
    expect((await passwords.verify("x", "$2b$31$K/VgpwnOJ.znlRwJ5pPnvu36qwZuyOC41V0Yg7NwusFjlhIO4i4/2")).refused).toEqual({
      family: "bcrypt",
      reason: "out-of-bounds",
    });
    expect(PasswordService.inspect("$argon2id$v=19$m=4194304,t=1,p=1$SDTR227wy7Ns5mSgJ/gxuQ$hj1NBT297Y0qdfoSyBIEtA")).toEqual({
      ok: false,
      family: "argon2",
      reason: "out-of-bounds",
    });
  });
});

describe("PasswordService.close", () => {
  it("lets a running hash finish (killing its thread would abort the process) and refuses the waiting ones", async () => {
    // A costlier policy, so the hash is still running when close() is called.
    const passwords = await PasswordService.create({ memoryCost: 16384, timeCost: 2, parallelism: 1 }, 1);
    const running = passwords.hash("correct horse battery staple");
    const refused = expect(passwords.hash("another password")).rejects.toMatchObject({
      code: "SERVICE_UNAVAILABLE",
      message: "Server shutting down; retry in 1 seconds",
    });
    await passwords.close();
    await expect(running).resolves.toMatch(/^\$argon2id\$v=19\$m=16384,t=2,p=1\$/);
    await refused;
    await expect(passwords.verify("correct horse battery staple", await running)).rejects.toMatchObject({ code: "SERVICE_UNAVAILABLE" });
  });
});
