import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { Writable } from "node:stream";
import { createLogger } from "./log";

function capture(secrets: string[] = []) {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger({ level: "trace", destination, secrets }), text: () => chunks.join("") };
}

const JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
const ARGON = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA";
const BCRYPT = "$2b$12$EixZaYVK1fsbw1ZfbX3OXePaWxn96p36WQoeG6Lruj3vjPGga31lW";
const DJANGO = "pbkdf2_sha256$600000$c2FsdA$aGFzaA==";

describe("createLogger redaction", () => {
  it("withholds secret-bearing keys at any depth", () => {
    const { logger, text } = capture();
    logger.info(
      {
        password: "hunter2-plain",
        deep: { a: { b: { c: { newPassword: "hunter3-plain", password_hash: "x-plain", refreshToken: "opaque-plain" } } } },
        headers: { Authorization: "opaque-header-plain", cookie: "sid=cookie-plain" },
        list: [{ accessToken: "list-plain" }],
        variables: { username: "u", password: "vars-plain" },
        hashFamily: "bcrypt",
      },
      "event",
    );
    const out = text();
    for (const secret of ["hunter2", "hunter3", "x-plain", "opaque", "cookie-plain", "list-plain", "vars-plain"])
      expect(out).not.toContain(secret);
    expect(out).toContain('"hashFamily":"bcrypt"');
  });

  it("cuts tokens, hashes and bearer credentials out of any string, the message and errors included", () => {
    const { logger, text } = capture(["the-configured-secret-key-value"]);
    logger.warn(`stored ${ARGON} and ${BCRYPT} and ${DJANGO}`);
    logger.info({ note: `Authorization: Bearer ${JWT}` }, "header was Basic dXNlcjpwYXNz");
    logger.error(new Error(`failed with the-configured-secret-key-value and ${JWT}`));
    logger.error({ err: new Error(`nested ${BCRYPT}`) }, "oops");
    const out = text();
    for (const secret of ["$argon2", "$2b$", "pbkdf2_", "eyJ", "dXNlcjpwYXNz", "the-configured-secret-key-value"])
      expect(out).not.toContain(secret);
    expect(out).toContain('"msg":"failed with [redacted] and [redacted]"');
    expect(out).toContain('"type":"Error"');
  });

  it("keeps request logging to the allow-listed fields", () => {
    const { logger, text } = capture();
    logger.info(
      {
        req: { id: "r1", method: "POST", url: "/graphql?token=abc-plain", ip: "10.0.0.1", headers: { authorization: "Bearer zzz-plain" } },
      },
      "request",
    );
    const out = text();
    expect(out).toContain('"req":{"id":"r1","method":"POST","url":"/graphql","remoteAddress":"10.0.0.1"}');
    expect(out).not.toContain("plain");
  });
});

describe("asyncStdout", () => {
  // Two processes log through the built asyncStdout into one pipe that is read only after a
  // second, so the pipe fills, as it does for cluster workers behind a slow log collector. Each
  // writer touches process.stdout, which makes the pipe non-blocking as any use of it in a
  // server would: a write of more than PIPE_BUF bytes is then cut short and the other writer's
  // lines land inside a line. With pino's default (16 KiB a write) lines came out broken in most runs.
  it("keeps every line whole when cluster workers share a slow pipe", async () => {
    const log = resolve(__dirname, "..", "dist", "log.js");
    const writer = `
      process.stdout;
      const { asyncStdout, createLogger } = require(${JSON.stringify(log)});
      const logger = createLogger({ level: "info", destination: asyncStdout() });
      const pad = "x".repeat(200);
      let i = 0;
      const burst = () => {
        for (let k = 0; k < 500; k++) logger.info({ i: i++, pad }, "line");
        if (i < 40000) setImmediate(burst);
      };
      burst();`;
    // The script goes in through the environment, so no shell quoting touches it.
    const shell = spawn("sh", ["-c", '("$NODE" -e "$WRITER" & "$NODE" -e "$WRITER" & wait) | (sleep 1; cat)'], {
      env: { PATH: process.env.PATH ?? "", NODE: process.execPath, WRITER: writer },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const chunks: Buffer[] = [];
    let errors = "";
    shell.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    shell.stderr.on("data", (chunk: Buffer) => (errors += chunk.toString()));
    const code = await new Promise<number | null>((done) => shell.on("close", done));
    expect(errors).toBe("");
    expect(code).toBe(0);
    const lines = Buffer.concat(chunks).toString("utf8").split("\n").filter(Boolean);
    expect(lines).toHaveLength(80000);
    const broken = lines.filter((line) => {
      try {
        JSON.parse(line);
        return false;
      } catch {
        return true;
      }
    });
    expect(broken).toEqual([]);
  }, 60_000);
});

describe("serverLogger", () => {
  // The logger main.ts gives the server and every cluster worker: SECRET_KEY is cut out of its
  // lines as it is out of the lines of an app built without one.
  it("cuts SECRET_KEY out of what the server process writes to stdout", async () => {
    const secretKey = "b7d1c0ffee5ecret5ecret5ecret5ecret5ecret";
    const writer = `
      const { serverLogger } = require(${JSON.stringify(resolve(__dirname, "..", "dist", "cluster.js"))});
      serverLogger({ logLevel: "info", secretKey: process.env.KEY }).info("the key is " + process.env.KEY);`;
    const child = spawn(process.execPath, ["-e", writer], {
      env: { PATH: process.env.PATH ?? "", KEY: secretKey },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((done) => child.on("close", done));
    expect(code).toBe(0);
    const line = JSON.parse(out) as { msg: string };
    expect(line.msg).toMatch(/^the key is /);
    expect(out).not.toContain(secretKey);
  });
});
