/** keys: the development key made once with mode 0600 and kept; SECRET_KEY used as given; key folders and generation. */
import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { loadConfig } from "../config";
import { createLogger } from "../log";
import { DEV_SECRET_FILE, generateSigningKey, loadSigningKeys } from "./keys";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger({ level: "debug", destination }), text: () => lines.join("") };
}

describe("loadSigningKeys", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "graphql-auth-keys-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const developmentConfig = () => loadConfig({ NODE_ENV: "development", DATABASE_URL: `sqlite:${join(dir, "app.db")}` });

  it("makes a development key once, beside the database, with mode 0600, and warns without printing it", async () => {
    const log = capture();
    const first = await loadSigningKeys(developmentConfig(), log.logger);
    const file = join(dir, DEV_SECRET_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const kept = readFileSync(file, "utf8").trim();
    expect(kept).toMatch(/^[0-9a-f]{64}$/);
    expect(first.signing.key.export().toString("utf8")).toBe(kept);
    expect(log.text()).toMatch(/"level":40.*SECRET_KEY is not set/);
    expect(log.text()).not.toContain(kept);

    const second = await loadSigningKeys(developmentConfig(), capture().logger);
    expect(second.signing.key.export().equals(first.signing.key.export())).toBe(true);
  });

  it("replaces a kept key shorter than 32 bytes", async () => {
    writeFileSync(join(dir, DEV_SECRET_FILE), "short\n");
    const keys = await loadSigningKeys(developmentConfig(), capture().logger);
    expect(keys.signing.key.export().length).toBe(64);
  });

  it("uses SECRET_KEY as given and writes no file", async () => {
    const secret = "s".repeat(40);
    const keys = await loadSigningKeys(
      loadConfig({ NODE_ENV: "production", SECRET_KEY: secret, DATABASE_URL: `sqlite:${join(dir, "app.db")}` }),
      capture().logger,
    );
    expect(keys.signing.key.export().toString("utf8")).toBe(secret);
    expect(() => statSync(join(dir, DEV_SECRET_FILE))).toThrow();
    expect(keys.jwks).toEqual({ keys: [] });
  });
});

const SECRET = "unit-test-secret-key-that-is-at-least-32-bytes";

function setup() {
  const dir = mkdtempSync(join(tmpdir(), "graphql-auth-keys-unit-"));
  const lines: string[] = [];
  const logger = createLogger({
    level: "info",
    destination: new Writable({
      write(chunk, _e, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  });
  const config = (env: Record<string, string>) =>
    loadConfig({ NODE_ENV: "test", SECRET_KEY: SECRET, JWT_KEYS_DIR: dir, DATABASE_URL: `sqlite:${dir}/db`, ...env });
  return { dir, logger, lines, config, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

describe("generateSigningKey", () => {
  it("writes one PKCS #8 file with mode 0600 and returns its thumbprint kid", async () => {
    const t = setup();
    try {
      const made = await generateSigningKey(join(t.dir, "new"), "ES256");
      expect(statSync(made.file).mode & 0o777).toBe(0o600);
      expect(readFileSync(made.file, "utf8")).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      expect(made.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(readdirSync(join(t.dir, "new"))).toEqual([made.file.split("/").at(-1)]);
    } finally {
      t.cleanup();
    }
  });
});

describe("loadSigningKeys with a key folder", () => {
  it("signs with the newest key, verifies with all, and skips keys of another algorithm", async () => {
    const t = setup();
    try {
      const old = await generateSigningKey(t.dir, "EdDSA", Date.UTC(2025, 0, 1));
      const newest = await generateSigningKey(t.dir, "EdDSA", Date.UTC(2026, 0, 1));
      const other = await generateSigningKey(t.dir, "ES256", Date.UTC(2027, 0, 1));
      const keys = await loadSigningKeys(t.config({ JWT_ALGORITHM: "EdDSA" }), t.logger);
      expect(keys.signing.kid).toBe(newest.kid);
      expect(keys.verificationKey(old.kid)?.equals(createPublicKey(readFileSync(old.file, "utf8")))).toBe(true);
      expect(keys.verificationKey(other.kid)).toBeUndefined();
      expect(keys.jwks.keys.map((k) => k.kid)).toEqual([old.kid, newest.kid]);
      expect(t.lines.join("")).toContain("not a EdDSA key");
      expect(t.lines.join("")).not.toContain("PRIVATE KEY");
    } finally {
      t.cleanup();
    }
  });

  it("a public-key file verifies the tokens of a retired key but never signs", async () => {
    const t = setup();
    try {
      const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
      writeFileSync(join(t.dir, "99-retired.pem"), publicKey.export({ type: "spki", format: "pem" }));
      const current = await generateSigningKey(t.dir, "ES256");
      const keys = await loadSigningKeys(t.config({ JWT_ALGORITHM: "ES256" }), t.logger);
      expect(keys.signing.kid).toBe(current.kid);
      expect(keys.jwks.keys).toHaveLength(2);
    } finally {
      t.cleanup();
    }
  });

  it("outside production makes a key when the folder has none; production refuses, naming JWT_KEYS_DIR", async () => {
    const t = setup();
    try {
      await expect(loadSigningKeys(t.config({ NODE_ENV: "production", JWT_ALGORITHM: "RS256" }), t.logger)).rejects.toThrow(
        /^Invalid configuration: JWT_KEYS_DIR/,
      );
      const keys = await loadSigningKeys(t.config({ JWT_ALGORITHM: "RS256" }), t.logger);
      expect(keys.signing.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(keys.jwks.keys.map((k) => k.kid)).toEqual([keys.signing.kid]);
      expect(createPublicKey(keys.signing.key).asymmetricKeyType).toBe("rsa");
    } finally {
      t.cleanup();
    }
  });

  it("refuses a file that is not a PEM key, naming JWT_KEYS_DIR", async () => {
    const t = setup();
    try {
      writeFileSync(join(t.dir, "broken.pem"), "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n");
      await expect(loadSigningKeys(t.config({ JWT_ALGORITHM: "ES256" }), t.logger)).rejects.toThrow(
        /^Invalid configuration: JWT_KEYS_DIR .*broken\.pem/,
      );
    } finally {
      t.cleanup();
    }
  });

  it("HS256: no published key, and a token naming any kid finds no key", async () => {
    const t = setup();
    try {
      const keys = await loadSigningKeys(t.config({ JWT_ALGORITHM: "HS256" }), t.logger);
      expect(keys.jwks).toEqual({ keys: [] });
      expect(keys.verificationKey(undefined)).toBe(keys.signing.key);
      expect(keys.verificationKey("../../../dev/null")).toBeUndefined();
    } finally {
      t.cleanup();
    }
  });
});
