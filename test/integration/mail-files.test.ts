/** Where mail goes: `.eml` files (0600 in a 0700 folder) in development, SMTP only with SMTP_URL in production. */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { simpleParser } from "mailparser";
import { createApp, type App } from "../../src/app";
import { capturingLogger, createTestDatabase, DIALECTS, startTestServer, testConfig, type TestDatabase } from "../harness";
import { startSmtpSink, waitFor } from "../smtp-sink";

const FAST = { pollIntervalMs: 20 };

describe.each(DIALECTS)("mail by environment (%s)", (dialect) => {
  let database: TestDatabase;
  let folder: string;
  let app: App | undefined;

  beforeEach(async () => {
    database = await createTestDatabase(dialect);
    folder = mkdtempSync(join(tmpdir(), "graphql-auth-outbox-"));
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await database.drop();
    rmSync(folder, { recursive: true, force: true });
  });

  const row = (id: string) => app!.database.db.selectFrom("mail_outbox").selectAll().where("id", "=", id).executeTakeFirstOrThrow();

  it("development: an .eml file per message, 0600 in a 0700 folder, logged by file name only", async () => {
    const { logger, lines } = capturingLogger();
    const outbox = join(folder, "outbox");
    app = await createApp(
      testConfig({ NODE_ENV: "development", DATABASE_URL: database.url, MAIL_FROM: "Accounts <accounts@example.org>" }),
      {
        logger,
        mail: { ...FAST, outboxDir: outbox },
      },
    );
    await app.databaseReady;
    expect(app.mail.configured).toBe(true);
    const token = randomBytes(32).toString("base64url");
    const to = `dev-${randomBytes(3).toString("hex")}@example.com`;
    const text = `Open http://127.0.0.1:4000/verify-email#token=${token}`;
    const id = await app.database.db
      .transaction()
      .execute((trx) => app!.mail.enqueueMail(trx, { to, subject: "Verify your email address", text }));

    await waitFor(async () => (await row(id)).status === "sent", "the message written");
    expect(statSync(outbox).mode & 0o777).toBe(0o700);
    const files = readdirSync(outbox);
    expect(files).toHaveLength(1);
    const file = files[0]!;
    expect(file).toMatch(new RegExp(`-${id}\\.eml$`));
    expect(statSync(join(outbox, file)).mode & 0o777).toBe(0o600);

    const parsed = await simpleParser(readFileSync(join(outbox, file)));
    expect(parsed.subject).toBe("Verify your email address");
    expect(parsed.from?.value).toEqual([{ address: "accounts@example.org", name: "Accounts" }]);
    expect(parsed.to).toMatchObject({ value: [{ address: to }] });
    expect(parsed.text?.trim()).toBe(text);
    expect(parsed.headers.get("auto-submitted")).toBe("auto-generated");

    expect(await row(id)).toMatchObject({ status: "sent", text_body: null, html_body: null });
    const logs = lines();
    expect(logs).toContain(file);
    for (const secret of [token, to, "verify-email"]) expect(logs).not.toContain(secret);
  });

  it("production: reports mail unconfigured, writes nothing and sends nothing", async () => {
    const { logger, lines } = capturingLogger();
    const outbox = join(folder, "outbox");
    app = await createApp(testConfig({ NODE_ENV: "production", DATABASE_URL: database.url }), {
      logger,
      mail: { ...FAST, outboxDir: outbox },
    });
    await app.databaseReady;
    expect(app.mail.configured).toBe(false);
    const id = await app.mail.enqueueMail(app.database.db, {
      to: "someone@example.com",
      subject: "Reset your password",
      text: "a link",
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(existsSync(outbox)).toBe(false);
    const state = await row(id);
    expect(state).toMatchObject({ status: "pending", lease_owner: null });
    expect(Number(state.attempts)).toBe(0);
    expect(lines()).toContain("mail is not configured");
  });

  it("production with SMTP_URL: configured, and the message goes to the SMTP server, not to a file", async () => {
    const sink = await startSmtpSink();
    try {
      const outbox = join(folder, "outbox");
      const server = await startTestServer({
        databaseUrl: database.url,
        env: { NODE_ENV: "production", SMTP_URL: sink.url },
        mail: { ...FAST, outboxDir: outbox },
      });
      app = server.app;
      expect(app.mail.configured).toBe(true);
      const id = await app.mail.enqueueMail(app.database.db, {
        to: "p@example.com",
        subject: "Reset your password",
        text: "x",
      });
      await waitFor(async () => (await row(id)).status === "sent", "the message sent");
      expect(sink.received.map((r) => r.mail.subject)).toEqual(["Reset your password"]);
      expect(existsSync(outbox)).toBe(false);
    } finally {
      await app?.close();
      app = undefined;
      await sink.close();
    }
  });
});
