/** The registry over a real password service: the queue gauge reads the waiting verifications, the histogram times each one. */
import { PasswordService } from "../passwords/passwords";
import { parsePrometheusText } from "../../test/prometheus-text";
import { MetricsRegistry } from "./registry";

describe("MetricsRegistry", () => {
  it("reads the hash queue's length at each scrape and observes every computation", async () => {
    const metrics = new MetricsRegistry();
    // One slot and a policy costly enough that the first verification still runs while the others queue.
    const passwords = await PasswordService.create({ memoryCost: 16384, timeCost: 2, parallelism: 1 }, 1, {
      dummyHashAtStart: false,
      onComputed: (operation, seconds) => metrics.passwordComputed(operation, seconds),
    });
    metrics.watchHashQueue(() => passwords.waitingTasks);
    const read = async () => parsePrometheusText(await metrics.registry.metrics());
    try {
      const stored = await passwords.hash("correct horse battery staple");
      expect((await read()).value("graphql_auth_password_hash_seconds_count", { operation: "hash" })).toBe(1);

      const verifications = [1, 2, 3].map(() => passwords.verify("correct horse battery staple", stored));
      await new Promise((resolve) => setImmediate(resolve));
      expect(passwords.waitingTasks).toBe(2);
      expect((await read()).value("graphql_auth_hash_queue_length")).toBe(2);

      await Promise.all(verifications);
      const after = await read();
      expect(after.value("graphql_auth_hash_queue_length")).toBe(0);
      expect(after.value("graphql_auth_password_hash_seconds_count", { operation: "verify" })).toBe(3);
      expect(after.value("graphql_auth_password_hash_seconds_sum", { operation: "verify" })).toBeGreaterThan(0);
    } finally {
      await passwords.close();
    }
  });

  it("starts every outcome's series at 0 and counts each call once", async () => {
    const metrics = new MetricsRegistry();
    metrics.loginOutcome("rate_limited");
    metrics.loginOutcome("rate_limited");
    metrics.refreshOutcome("reuse");
    metrics.emailOutcome("failed");
    metrics.webhookOutcome("delivered");
    const m = parsePrometheusText(await metrics.registry.metrics());
    expect(m.value("graphql_auth_logins_total", { outcome: "rate_limited" })).toBe(2);
    expect(m.value("graphql_auth_logins_total", { outcome: "success" })).toBe(0);
    expect(m.value("graphql_auth_refreshes_total", { outcome: "reuse" })).toBe(1);
    expect(m.value("graphql_auth_refreshes_total", { outcome: "invalid" })).toBe(0);
    expect(m.value("graphql_auth_emails_total", { outcome: "failed" })).toBe(1);
    expect(m.value("graphql_auth_webhooks_total", { outcome: "delivered" })).toBe(1);
    expect(m.value("graphql_auth_webhooks_total", { outcome: "retry" })).toBe(0);
  });
});
