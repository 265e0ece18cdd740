/** The CLI and the audit log: `secret --webhook`; the events of `users add|disable|enable`, a server delivers. */
import { Webhook } from "standardwebhooks";
import { loadConfig } from "../../src/config";
import { createTestDatabase, startTestServer, type TestDatabase } from "../harness";
import { startWebhookReceiver } from "../webhook-receiver";
import { cliEnv, runCli } from "./run-cli";

describe("graphql-auth and the audit log", () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase("sqlite");
  });
  afterAll(async () => database?.drop());

  it("secret --webhook prints a fresh whsec_ secret of 32 random bytes that config and library take", async () => {
    const first = await runCli(["secret", "--webhook"], cliEnv(database.url));
    const second = await runCli(["secret", "--webhook"], cliEnv(database.url));
    expect(first).toEqual({ code: 0, stdout: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=\n$/), stderr: "" });
    expect(second.stdout).not.toBe(first.stdout);
    const secret = first.stdout.trimEnd();
    expect(Buffer.from(secret.slice(6), "base64")).toHaveLength(32);
    expect(loadConfig({ WEBHOOK_URL: "https://hooks.example.com/auth", WEBHOOK_SECRET: secret }).webhook?.secret).toBe(secret);
    expect(() => new Webhook(secret)).not.toThrow();
  });

  it("users add, disable and enable record their events; a server delivers the webhooks they queued", async () => {
    const secret = (await runCli(["secret", "--webhook"], cliEnv(database.url))).stdout.trimEnd();
    const receiver = await startWebhookReceiver(secret);
    try {
      const env = cliEnv(database.url, { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: secret });
      const username = `cli_audit_${Date.now()}`;
      expect((await runCli(["users", "add", username, "--password-stdin"], env, "a cli password 123")).code).toBe(0);
      expect((await runCli(["users", "disable", username], env)).code).toBe(0);
      expect((await runCli(["users", "enable", username], env)).code).toBe(0);
      // A refused command records nothing.
      expect((await runCli(["users", "disable", "no_such_user_here"], env)).code).toBe(1);
      expect(receiver.received).toHaveLength(0);

      const server = await startTestServer({
        databaseUrl: database.url,
        env: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: secret },
        audit: { webhooks: { pollIntervalMs: 20 } },
      });
      try {
        const user = await server.app.users.requireUserByUsername(username);
        await receiver.waitFor((r) => r.length === 3);
        const delivered = receiver.received.map((r) => r.verified as { type: string; data: { userId: string } });
        expect(delivered.map((d) => d.type).sort()).toEqual(["user.created", "user.disabled", "user.enabled"]);
        expect(delivered.every((d) => d.data.userId === user.id)).toBe(true);
        expect(JSON.stringify(receiver.received)).not.toContain("a cli password 123");
      } finally {
        await server.close();
      }
    } finally {
      await receiver.close();
    }
  });
});
