/** The mail outbox against a real SMTP server: sent once, retried through outages and restarts, never twice. */
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:net";
import { type AddressInfo } from "node:net";
import { createApp, type App } from "../../src/app";
import { capturingLogger, createTestDatabase, DIALECTS, movableClock, testConfig, type MovableClock, type TestDatabase } from "../harness";
import { startSmtpSink, waitFor, type SmtpSink } from "../smtp-sink";

/** Fast polls; retries due after 1 s of the injected clock, which the tests move instead of sleeping. */
const FAST = {
  pollIntervalMs: 20,
  retry: { initialDelayMs: 1_000, maxDelayMs: 60_000 },
  retryForMs: 60 * 60_000,
  shutdownGraceMs: 300,
};

describe.each(DIALECTS)("mail outbox over SMTP (%s)", (dialect) => {
  let database: TestDatabase;
  let sink: SmtpSink;
  const apps: App[] = [];

  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    sink = await startSmtpSink();
  });
  // Each test's apps stop with it: an app left running with a clock moved hours ahead would take
  // over the next test's leases (as an instance with a clock that wrong would).
  afterEach(async () => {
    sink.setMode("up");
    for (const app of apps.splice(0)) await app.close();
  });
  afterAll(async () => {
    await sink.close();
    await database.drop();
  });

  async function start(options: { smtpUrl?: string; clock?: MovableClock; mail?: Record<string, unknown> } = {}) {
    const { logger, lines } = capturingLogger();
    const app = await createApp(testConfig({ DATABASE_URL: database.url, SMTP_URL: options.smtpUrl ?? sink.url }), {
      clock: options.clock,
      logger,
      mail: { ...FAST, ...options.mail },
    });
    apps.push(app);
    await app.databaseReady;
    return { app, lines };
  }

  async function stop(app: App) {
    apps.splice(apps.indexOf(app), 1);
    await app.close();
  }

  const row = (app: App, id: string) =>
    app.database.db.selectFrom("mail_outbox").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
  const copies = (subject: string) => sink.received.filter((r) => r.mail.subject === subject).length;

  function message() {
    const tag = randomBytes(4).toString("hex");
    const token = randomBytes(32).toString("base64url");
    return {
      to: `someone-${tag}@example.com`,
      subject: `Reset your password ${tag}`,
      text: `Follow http://127.0.0.1:4000/reset-password#token=${token}`,
      html: `<p><a href="http://127.0.0.1:4000/reset-password#token=${token}">Reset</a></p>`,
      token,
    };
  }

  it("delivers a message once (From, To, Subject, text, html), then deletes its body from the table", async () => {
    const clock = movableClock();
    const { app, lines } = await start({ clock });
    const m = message();
    const id = await app.database.db
      .transaction()
      .execute((trx) => app.mail.enqueueMail(trx, { to: m.to, subject: m.subject, text: m.text, html: m.html }));
    expect(app.mail.configured).toBe(true);

    await waitFor(async () => (await row(app, id)).status === "sent", "the message sent");
    const got = sink.received.filter((r) => r.mail.subject === m.subject);
    expect(got).toHaveLength(1);
    expect(got[0]!.mail.from?.value).toEqual([{ address: "no-reply@localhost", name: "graphql-auth-server" }]);
    expect(got[0]!.mail.to).toMatchObject({ value: [{ address: m.to }] });
    expect(got[0]!.envelopeTo).toEqual([m.to]);
    expect(got[0]!.envelopeFrom).toBe("no-reply@localhost");
    expect(got[0]!.mail.text?.trim()).toBe(m.text);
    expect(got[0]!.mail.html).toContain(`#token=${m.token}`);

    const settled = await row(app, id);
    expect(settled).toMatchObject({
      status: "sent",
      text_body: null,
      html_body: null,
      recipient: m.to,
      subject: m.subject,
      lease_owner: null,
    });
    expect(Number(settled.attempts)).toBe(1);
    expect(Number(settled.sent_at)).toBe(clock.now());
    expect(settled.message_id).toBe(got[0]!.mail.messageId);

    // Long after its lease, it is still delivered once: a sent message is never claimed again.
    clock.advance(60 * 60_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(copies(m.subject)).toBe(1);

    // The logs name the message, never its body, link, token, recipient or the SMTP password.
    const logs = lines();
    expect(logs).toContain(id);
    for (const secret of [m.token, m.to, sink.password, "reset-password"]) expect(logs).not.toContain(secret);
  });

  it("sends nothing for a transaction that rolls back", async () => {
    const { app } = await start();
    const m = message();
    await expect(
      app.database.db.transaction().execute(async (trx) => {
        await app.mail.enqueueMail(trx, m);
        throw new Error("the use case failed after queueing");
      }),
    ).rejects.toThrow("the use case failed after queueing");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(copies(m.subject)).toBe(0);
    const queued = await app.database.db.selectFrom("mail_outbox").select("id").where("subject", "=", m.subject).execute();
    expect(queued).toEqual([]);
  });

  it("retries a message refused with 421, with backoff, and delivers it once after the server is back", async () => {
    const clock = movableClock();
    const { app, lines } = await start({ clock });
    sink.setMode("down");
    const m = message();
    const queuedAt = clock.now();
    const id = await app.mail.enqueueMail(app.database.db, m);

    await waitFor(async () => Number((await row(app, id)).attempts) === 1, "the first failed attempt");
    let state = await row(app, id);
    expect(state.status).toBe("pending");
    expect(state.text_body).toBe(m.text);
    expect(state.last_error).toMatch(/421/);
    // Due again one backoff step later, by the injected clock: nothing more happens before that.
    expect(Number(state.next_attempt_at)).toBe(queuedAt + 1_000);
    const refusedBefore = sink.refusals();
    sink.setMode("up");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sink.refusals()).toBe(refusedBefore);
    expect(copies(m.subject)).toBe(0);

    clock.advance(1_000);
    await waitFor(async () => (await row(app, id)).status === "sent", "the message sent after the server came back");
    state = await row(app, id);
    expect(Number(state.attempts)).toBe(2);
    expect(state.text_body).toBeNull();
    clock.advance(60 * 60_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(copies(m.subject)).toBe(1);
    const logs = lines();
    expect(logs).toContain("mail delivery failed; retrying");
    for (const secret of [m.token, m.to, sink.password, "reset-password"]) expect(logs).not.toContain(secret);
  });

  it("marks a message the server refuses with 550 failed at once, deletes its body, logs no address", async () => {
    const { app, lines } = await start();
    const m = { ...message(), to: `reject-${randomBytes(3).toString("hex")}@example.com` };
    const id = await app.mail.enqueueMail(app.database.db, m);
    await waitFor(async () => (await row(app, id)).status === "failed", "the message refused for good");
    const state = await row(app, id);
    expect(state).toMatchObject({ text_body: null, html_body: null, last_error: "EENVELOPE 550" });
    expect(Number(state.attempts)).toBe(1);
    expect(copies(m.subject)).toBe(0);
    const logs = lines();
    expect(logs).toContain("mail refused by the SMTP server; not retried");
    for (const secret of [m.token, m.to, "Recipient address rejected"]) expect(logs).not.toContain(secret);
  });

  it("keeps a message through a closed SMTP port and a restart; the next process delivers it once", async () => {
    const clock = movableClock();
    const closedPort = await freePort();
    const first = await start({ clock, smtpUrl: `smtp://mailer:pw@127.0.0.1:${closedPort}` });
    const m = message();
    const id = await first.app.mail.enqueueMail(first.app.database.db, m);
    await waitFor(async () => Number((await row(first.app, id)).attempts) === 1, "the failed attempt against a closed port");
    expect((await row(first.app, id)).last_error).toMatch(/^E(CONNECTION|SOCKET)$/);
    await stop(first.app);

    // A new process on the same database, with an SMTP server that answers.
    clock.advance(1_000);
    const second = await start({ clock });
    await waitFor(async () => (await row(second.app, id)).status === "sent", "the message sent by the next process");
    expect(copies(m.subject)).toBe(1);
    expect((await row(second.app, id)).text_body).toBeNull();
  });

  it("takes over a message whose sender died holding it once its lease ends, and not before", async () => {
    const clock = movableClock();
    const { app } = await start({ clock, mail: { leaseMs: 60_000 } });
    // A crashed process leaves its claim behind: a lease it will never settle.
    await app.mail.stop();
    const m = message();
    const id = await app.mail.enqueueMail(app.database.db, m);
    await app.database.db
      .updateTable("mail_outbox")
      .set({ lease_owner: "crashed-sender", lease_until: clock.now() + 60_000 })
      .where("id", "=", id)
      .execute();

    const { app: survivor } = await start({ clock, mail: { leaseMs: 60_000 } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(copies(m.subject)).toBe(0);
    clock.advance(60_000);
    await waitFor(async () => (await row(survivor, id)).status === "sent", "the message sent after the dead sender's lease");
    expect(copies(m.subject)).toBe(1);
  });

  it("two app instances on one database send each message once", async () => {
    const a = await start();
    await start(); // a second instance polling the same outbox
    const messages = Array.from({ length: 30 }, () => message());
    await a.app.database.db.transaction().execute(async (trx) => {
      for (const m of messages) await a.app.mail.enqueueMail(trx, m);
    });
    const subjects = new Set(messages.map((m) => m.subject));
    await waitFor(
      () => sink.received.filter((r) => subjects.has(r.mail.subject ?? "")).length >= messages.length,
      "every message delivered",
      20_000,
    );
    // Every poll of both senders has had time to find anything left.
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const m of messages) expect(copies(m.subject)).toBe(1);
    const sent = await a.app.database.db
      .selectFrom("mail_outbox")
      .select(["status", "text_body"])
      .where("subject", "in", [...subjects])
      .execute();
    expect(sent).toHaveLength(30);
    expect(sent.every((r) => r.status === "sent" && r.text_body === null)).toBe(true);
  });

  it("marks a message failed once it has been retried for retryForMs, deletes its body and warns once", async () => {
    const clock = movableClock();
    const { app, lines } = await start({ clock });
    sink.setMode("down");
    const m = message();
    const id = await app.mail.enqueueMail(app.database.db, m);
    await waitFor(async () => Number((await row(app, id)).attempts) === 1, "the first failed attempt");
    clock.advance(FAST.retryForMs);
    await waitFor(async () => (await row(app, id)).status === "failed", "the message given up");
    const state = await row(app, id);
    expect(state).toMatchObject({ text_body: null, html_body: null, lease_owner: null });
    expect(Number(state.attempts)).toBe(2);
    clock.advance(FAST.retryForMs);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(Number((await row(app, id)).attempts)).toBe(2);
    const warnings = lines()
      .split("\n")
      .filter((line) => line.includes(id) && line.includes('"level":40'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("given up");
  });

  it("close() hands back the message in hand after a short grace instead of waiting for a silent server", async () => {
    // A server that accepts connections and never says a word: nodemailer waits for its greeting.
    const silent = await silentServer();
    try {
      const { app } = await start({
        smtpUrl: `smtp://127.0.0.1:${silent.port}`,
        mail: { socketTimeoutMs: 30_000, sendTimeoutMs: 60_000 },
      });
      const m = message();
      const id = await app.mail.enqueueMail(app.database.db, m);
      await waitFor(async () => (await row(app, id)).lease_owner !== null && silent.connections() > 0, "the message in hand");
      const began = Date.now();
      await stop(app);
      expect(Date.now() - began).toBeLessThan(3_000);
      const check = await createApp(testConfig({ DATABASE_URL: database.url }), {
        mail: { ...FAST, pollIntervalMs: 60_000 },
      });
      try {
        await check.databaseReady;
        await check.mail.stop();
        const state = await row(check, id);
        expect(state).toMatchObject({ status: "pending", lease_owner: null, text_body: m.text });
        expect(Number(state.lease_until)).toBe(0);
        expect(Number(state.attempts)).toBe(0);
      } finally {
        await check.close();
      }
    } finally {
      await silent.close();
    }
  });
});

/** A port nothing listens on (a server's, just closed). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function silentServer(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  const sockets = new Set<import("node:net").Socket>();
  let count = 0;
  const server: Server = createServer((socket) => {
    count += 1;
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => count,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
