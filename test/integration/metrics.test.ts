/** METRICS_PORT (CONTRACT section 13): GET /metrics in Prometheus text, each counter moved by the action that causes it. */
import { Secret, TOTP } from "otpauth";
import { DIALECTS, startTestServer, type TestServer, type TestUser } from "../harness";
import { listeningPorts, scrape, type Scraped } from "../prometheus-text";
import { startSmtpSink, waitFor, type SmtpSink } from "../smtp-sink";
import { postToken, refreshMutation, loginPair } from "../support";
import { startWebhookReceiver, type WebhookReceiver } from "../webhook-receiver";

const SECRET = `whsec_${Buffer.alloc(24, 7).toString("base64")}`;
const LOGIN = `mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }`;
const RESET = "mutation($e: String!) { requestPasswordReset(email: $e) }";
/** Short polls and retries, so a failed delivery is tried again within a fraction of a second. */
const MAIL = { pollIntervalMs: 20, retry: { initialDelayMs: 50, maxDelayMs: 50 }, shutdownGraceMs: 300 };
const AUDIT = { webhooks: { pollIntervalMs: 20, retry: { initialDelayMs: 50, maxDelayMs: 50 } } };

describe.each(DIALECTS)("metrics on METRICS_PORT (%s)", (dialect) => {
  let server: TestServer;
  let sink: SmtpSink;
  let receiver: WebhookReceiver;
  let webhooksFail = false;
  let url: string;
  beforeAll(async () => {
    sink = await startSmtpSink();
    receiver = await startWebhookReceiver(SECRET, () => (webhooksFail ? 500 : 200));
    server = await startTestServer({
      dialect,
      env: {
        METRICS_PORT: "0",
        LOGIN_MAX_FAILURES: "2",
        REFRESH_TOKEN_REUSE_INTERVAL: "0",
        SMTP_URL: sink.url,
        WEBHOOK_URL: receiver.url,
        WEBHOOK_SECRET: SECRET,
      },
      mail: MAIL,
      audit: AUDIT,
    });
    url = server.app.metrics.url!;
  });
  afterAll(async () => {
    await server?.close();
    await receiver?.close();
    await sink?.close();
  });

  const logins = (m: Scraped, outcome: string) => m.value("graphql_auth_logins_total", { outcome });
  const refreshes = (m: Scraped, outcome: string) => m.value("graphql_auth_refreshes_total", { outcome });
  const login = (username: string, password: string) => server.gql(LOGIN, { u: username, p: password });

  /** Scrapes before and after `action`, and returns both. */
  async function around(action: () => Promise<unknown>): Promise<{ before: Scraped; after: Scraped }> {
    const before = await scrape(url);
    await action();
    return { before, after: await scrape(url) };
  }

  it("answers GET /metrics on its own port in Prometheus text, every series present from the start, and 404 elsewhere", async () => {
    const apiPort = new URL(server.url).port;
    expect(new URL(url).port).not.toBe(apiPort);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(listeningPorts(process.pid)).toEqual(expect.arrayContaining([Number(apiPort), Number(new URL(url).port)]));
    const m = await scrape(url);
    expect(m.status).toBe(200);
    expect(m.contentType).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(m.types.get("graphql_auth_logins_total")).toBe("counter");
    expect(m.types.get("graphql_auth_refreshes_total")).toBe("counter");
    expect(m.types.get("graphql_auth_emails_total")).toBe("counter");
    expect(m.types.get("graphql_auth_webhooks_total")).toBe("counter");
    expect(m.types.get("graphql_auth_password_hash_seconds")).toBe("histogram");
    expect(m.types.get("graphql_auth_hash_queue_length")).toBe("gauge");
    for (const outcome of ["success", "failure", "rate_limited", "inactive", "mfa_required"]) {
      expect(logins(m, outcome)).toEqual(expect.any(Number));
    }
    for (const outcome of ["success", "invalid", "reuse"]) expect(refreshes(m, outcome)).toEqual(expect.any(Number));
    for (const outcome of ["sent", "retry", "failed"])
      expect(m.value("graphql_auth_emails_total", { outcome })).toEqual(expect.any(Number));
    for (const outcome of ["delivered", "retry", "failed"]) {
      expect(m.value("graphql_auth_webhooks_total", { outcome })).toEqual(expect.any(Number));
    }
    // Nothing waits for a hash slot while the server is idle.
    expect(m.value("graphql_auth_hash_queue_length")).toBe(0);
    // The process defaults.
    expect(m.value("process_cpu_user_seconds_total")).toEqual(expect.any(Number));
    expect(m.types.get("nodejs_heap_size_used_bytes")).toBe("gauge");

    expect((await fetch(url.replace("/metrics", "/"))).status).toBe(404);
    expect((await fetch(url.replace("/metrics", "/graphql"))).status).toBe(404);
    expect((await fetch(url, { method: "POST", body: "x" })).status).toBe(404);
    // And the API's port does not serve them.
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
  });

  it("counts a good login as success, with one more verification in the hash histogram, through both doors", async () => {
    const user = await server.createUser();
    const verifications = (m: Scraped) => m.value("graphql_auth_password_hash_seconds_count", { operation: "verify" })!;
    const graphql = await around(async () => expect((await login(user.username, user.password)).body.data.login).toBeTruthy());
    expect(logins(graphql.after, "success")).toBe(logins(graphql.before, "success")! + 1);
    expect(verifications(graphql.after)).toBe(verifications(graphql.before) + 1);
    expect(graphql.after.value("graphql_auth_password_hash_seconds_sum", { operation: "verify" })).toBeGreaterThan(
      graphql.before.value("graphql_auth_password_hash_seconds_sum", { operation: "verify" })!,
    );

    const token = await around(async () => {
      const body = new URLSearchParams({ grant_type: "password", username: user.username, password: user.password });
      expect((await postToken(server, body.toString())).status).toBe(200);
    });
    expect(logins(token.after, "success")).toBe(logins(token.before, "success")! + 1);
    expect(verifications(token.after)).toBe(verifications(token.before) + 1);
  });

  it("counts a wrong password and an unknown username as failure, a disabled user's right password as inactive", async () => {
    const user = await server.createUser();
    const wrong = await around(async () => {
      expect((await login(user.username, "not-the-password")).body.errors?.[0]?.message).toBe("Incorrect username or password");
      expect((await login(`nobody-${user.username}`, "whatever-it-is")).body.errors?.[0]?.message).toBe("Incorrect username or password");
    });
    expect(logins(wrong.after, "failure")).toBe(logins(wrong.before, "failure")! + 2);
    expect(logins(wrong.after, "success")).toBe(logins(wrong.before, "success"));

    const disabled = await server.createUser({ disabled: true });
    const inactive = await around(async () => {
      expect((await login(disabled.username, disabled.password)).body.errors?.[0]?.message).toBe("Inactive user");
    });
    expect(logins(inactive.after, "inactive")).toBe(logins(inactive.before, "inactive")! + 1);
    expect(logins(inactive.after, "failure")).toBe(logins(inactive.before, "failure"));
  });

  it("counts a refused attempt past LOGIN_MAX_FAILURES as rate_limited, not as a failure", async () => {
    const user = await server.createUser();
    for (let i = 0; i < 2; i += 1) await login(user.username, "wrong-password-again");
    const limited = await around(async () => {
      expect((await login(user.username, user.password)).body.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
    });
    expect(logins(limited.after, "rate_limited")).toBe(logins(limited.before, "rate_limited")! + 1);
    expect(logins(limited.after, "failure")).toBe(logins(limited.before, "failure"));
    expect(logins(limited.after, "success")).toBe(logins(limited.before, "success"));
  });

  it("counts a two-factor user's correct password as mfa_required", async () => {
    const user = await enrolTotp(server, await server.createUser());
    const step = await around(async () => {
      expect((await login(user.username, user.password)).body.errors?.[0]?.extensions?.code).toBe("MFA_REQUIRED");
    });
    expect(logins(step.after, "mfa_required")).toBe(logins(step.before, "mfa_required")! + 1);
    expect(logins(step.after, "success")).toBe(logins(step.before, "success"));
  });

  it("counts refreshes: success for a rotation, invalid for an unknown token, reuse for a spent one", async () => {
    const user = await server.createUser();
    const pair = await loginPair(server, user.username, user.password);
    const rotated = await around(async () => expect((await refreshMutation(server, pair.refreshToken)).body.data?.refresh).toBeTruthy());
    expect(refreshes(rotated.after, "success")).toBe(refreshes(rotated.before, "success")! + 1);

    const unknown = await around(async () => {
      expect((await refreshMutation(server, "A".repeat(43))).body.errors?.[0]?.message).toBe("Invalid refresh token");
    });
    expect(refreshes(unknown.after, "invalid")).toBe(refreshes(unknown.before, "invalid")! + 1);
    expect(refreshes(unknown.after, "reuse")).toBe(refreshes(unknown.before, "reuse"));

    // REFRESH_TOKEN_REUSE_INTERVAL=0: the spent token again is reuse, and the session ends.
    const reused = await around(async () => {
      expect((await refreshMutation(server, pair.refreshToken)).body.errors?.[0]?.message).toBe("Invalid refresh token");
    });
    expect(refreshes(reused.after, "reuse")).toBe(refreshes(reused.before, "reuse")! + 1);
    expect(refreshes(reused.after, "invalid")).toBe(refreshes(reused.before, "invalid"));
  });

  it("counts mail: sent through the SMTP server, retry while it is down, failed for a mailbox it refuses", async () => {
    const emails = async (outcome: string) => (await scrape(url)).value("graphql_auth_emails_total", { outcome })!;
    const sentBefore = await emails("sent");
    const user = await server.createUser();
    expect((await server.gql(RESET, { e: user.user.email })).body.data).toEqual({ requestPasswordReset: true });
    await waitFor(() => sink.received.some((r) => r.envelopeTo.includes(user.user.email!)), "the reset mail");
    await waitFor(async () => (await emails("sent")) === sentBefore + 1, "emails_total{outcome=sent} + 1");

    const retryBefore = await emails("retry");
    sink.setMode("down");
    const second = await server.createUser();
    try {
      await server.gql(RESET, { e: second.user.email });
      await waitFor(async () => (await emails("retry")) > retryBefore, "emails_total{outcome=retry} to move");
    } finally {
      sink.setMode("up");
    }
    await waitFor(() => sink.received.some((r) => r.envelopeTo.includes(second.user.email!)), "the retried mail");

    const failedBefore = await emails("failed");
    const refused = await server.app.users.createUser({
      username: `reject_${second.username}`,
      email: `reject-${second.username}@example.com`,
      passwordHash: await server.app.passwords.hash("some-password-1"),
      scopes: ["me"],
    });
    await server.gql(RESET, { e: refused.email });
    await waitFor(async () => (await emails("failed")) === failedBefore + 1, "emails_total{outcome=failed} + 1");
  });

  it("counts webhooks: delivered to the receiver, and retry for a 500", async () => {
    const webhooks = async (outcome: string) => (await scrape(url)).value("graphql_auth_webhooks_total", { outcome })!;
    const user = await server.createUser();
    const deliveredBefore = await webhooks("delivered");
    const arrived = receiver.received.length;
    await login(user.username, user.password);
    await receiver.waitFor((received) => received.slice(arrived).some((r) => r.status === 200));
    await waitFor(async () => (await webhooks("delivered")) > deliveredBefore, "webhooks_total{outcome=delivered} to move");

    const retryBefore = await webhooks("retry");
    webhooksFail = true;
    try {
      await login(user.username, "a-wrong-password");
      await waitFor(async () => (await webhooks("retry")) > retryBefore, "webhooks_total{outcome=retry} to move");
    } finally {
      webhooksFail = false;
    }
  });
});

describe("METRICS_PORT unset", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({});
  });
  afterAll(async () => server?.close());

  it("keeps no registry and listens nowhere but the API", async () => {
    expect(server.app.config.metricsPort).toBeUndefined();
    expect(server.app.metrics.url).toBeUndefined();
    await expect(server.app.metrics.start()).resolves.toBeUndefined();
    // This process (the test's) holds no other listener by now: the API's port is the only one.
    expect(listeningPorts(process.pid)).toEqual([Number(new URL(server.url).port)]);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
  });
});

/** Turns TOTP on for `user` through the real enrolment mutations, with a code made by otpauth. */
async function enrolTotp(server: TestServer, user: TestUser): Promise<TestUser> {
  const token = await server.login(user.username, user.password);
  const enrolment = await server.gql("mutation { enrollTotp { secret } }", {}, { token });
  const secret = enrolment.body.data.enrollTotp.secret as string;
  const code = new TOTP({ secret: Secret.fromBase32(secret), algorithm: "SHA1", digits: 6, period: 30 }).generate();
  const confirmed = await server.gql("mutation($c: String!) { confirmTotp(code: $c) }", { c: code }, { token });
  expect(confirmed.body.data.confirmTotp).toHaveLength(10);
  return user;
}
