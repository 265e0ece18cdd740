/** WEB_CONCURRENCY=2 on the built server: each worker runs a sender, and every message is sent once. */
import { randomBytes } from "node:crypto";
import { createDb } from "../../src/db/database";
import { insertMail } from "../../src/mail/outbox.store";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../harness";
import { spawnServer, type LogLine, type SpawnedServer } from "../spawned-server";
import { startSmtpSink, waitFor, type SmtpSink } from "../smtp-sink";

const isReady = (line: LogLine) => line.msg === "database ready";

describe.each(DIALECTS)("mail under WEB_CONCURRENCY=2 (%s)", (dialect) => {
  let database: TestDatabase;
  let sink: SmtpSink;
  let server: SpawnedServer | undefined;
  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    server?.child.kill("SIGKILL");
    await sink?.close();
    await database?.drop();
  });

  it("two workers' senders deliver each queued message once", async () => {
    server = spawnServer({ WEB_CONCURRENCY: "2", DATABASE_URL: database.url, SMTP_URL: sink.url });
    const spawned = server;
    await spawned.waitForLine((line) => spawned.lines.filter(isReady).length >= 2 && isReady(line), "both workers ready");

    const handle = createDb(database.url);
    const token = randomBytes(32).toString("base64url");
    const subjects: string[] = [];
    try {
      await handle.db.transaction().execute(async (trx) => {
        for (let i = 0; i < 20; i += 1) {
          const subject = `Verify your email address ${i}-${randomBytes(3).toString("hex")}`;
          subjects.push(subject);
          await insertMail(trx, { to: `w${i}@example.com`, subject, text: `#token=${token}` }, Date.now());
        }
      });
      await waitFor(() => sink.received.length >= 20, "20 messages delivered", 20_000);
      // Longer than the 1 s poll of both workers: a second copy would have been sent by now.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect(sink.received.map((r) => r.mail.subject).sort()).toEqual([...subjects].sort());
      const rows = await handle.db.selectFrom("mail_outbox").select(["status", "text_body"]).execute();
      expect(rows.every((r) => r.status === "sent" && r.text_body === null)).toBe(true);
    } finally {
      await handle.close();
    }
    expect(JSON.stringify(spawned.lines)).not.toContain(token);
    expect(JSON.stringify(spawned.lines)).not.toContain(sink.password);

    spawned.child.kill("SIGTERM");
    expect(await spawned.exited).toBe(0);
  });
});
