/** keys: the development key made once with mode 0600 and kept; SECRET_KEY used as given. */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { loadConfig } from "../config";
import { createLogger } from "../log";
import { DEV_SECRET_FILE, loadSigningKeys } from "./keys";

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

  it("makes a development key once, beside the database, with mode 0600, and warns without printing it", () => {
    const log = capture();
    const first = loadSigningKeys(developmentConfig(), log.logger);
    const file = join(dir, DEV_SECRET_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const kept = readFileSync(file, "utf8").trim();
    expect(kept).toMatch(/^[0-9a-f]{64}$/);
    expect(first.signing.key.export().toString("utf8")).toBe(kept);
    expect(log.text()).toMatch(/"level":40.*SECRET_KEY is not set/);
    expect(log.text()).not.toContain(kept);

    const second = loadSigningKeys(developmentConfig(), capture().logger);
    expect(second.signing.key.export().equals(first.signing.key.export())).toBe(true);
  });

  it("replaces a kept key shorter than 32 bytes", () => {
    writeFileSync(join(dir, DEV_SECRET_FILE), "short\n");
    const keys = loadSigningKeys(developmentConfig(), capture().logger);
    expect(keys.signing.key.export().length).toBe(64);
  });

  it("uses SECRET_KEY as given and writes no file", () => {
    const secret = "s".repeat(40);
    const keys = loadSigningKeys(loadConfig({ NODE_ENV: "production", SECRET_KEY: secret, DATABASE_URL: `sqlite:${join(dir, "app.db")}` }), capture().logger);
    expect(keys.signing.key.export().toString("utf8")).toBe(secret);
    expect(() => statSync(join(dir, DEV_SECRET_FILE))).toThrow();
    expect(keys.jwks).toEqual({ keys: [] });
  });
});
