/** SMTP_URL and MAIL_FROM in loadConfig: one clear line naming the key, never the password. */
import { ConfigError, loadConfig } from "../config";

const base = { SECRET_KEY: "test-secret-key-that-is-at-least-32-bytes-long" };

function refusal(env: Record<string, string>): ConfigError {
  try {
    loadConfig({ ...base, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("loadConfig accepted it");
}

describe("mail configuration", () => {
  it("defaults: no SMTP_URL, the contract's MAIL_FROM, the outbox under the data folder", () => {
    const config = loadConfig(base);
    expect(config.mail).toEqual({
      smtpUrl: undefined,
      from: "graphql-auth-server <no-reply@localhost>",
      outboxDir: "data/outbox",
    });
    expect(loadConfig({ ...base, DATABASE_URL: "sqlite:/srv/auth/auth.db" }).mail.outboxDir).toBe("/srv/auth/outbox");
    expect(Object.isFrozen(config.mail)).toBe(true);
  });

  it("accepts nodemailer's URL forms", () => {
    for (const url of [
      "smtp://user:pass@mail.example.com:587",
      "smtps://user:p%40ss@mail.example.com:465",
      "smtp://127.0.0.1:2525",
      "smtp://mail.example.com",
    ]) {
      expect(loadConfig({ ...base, SMTP_URL: url }).mail.smtpUrl).toBe(url);
    }
    expect(loadConfig({ ...base, MAIL_FROM: "accounts@example.org" }).mail.from).toBe("accounts@example.org");
  });

  it.each([
    ["not a url", "SMTP_URL is not a valid URL"],
    ["http://user:hunter22@mail.example.com", "SMTP_URL must start with smtp:// or smtps://"],
    ["smtp://user:hunter22@mail.example.com:99999", "SMTP_URL is not a valid URL"],
    ["smtp://user:hunter22@:25", "SMTP_URL is not a valid URL"],
  ])("refuses SMTP_URL=%s with one line that never repeats the password", (url, start) => {
    const error = refusal({ SMTP_URL: url });
    expect(error.message.startsWith(`Invalid configuration: ${start}`)).toBe(true);
    expect(error.message).not.toContain("hunter22");
    expect(error.message).not.toContain("\n");
  });

  it.each(["no-at-sign", "a@example.com, b@example.com", "Team: a@example.com;", "x@example.com\r\nBcc: victim@example.com"])(
    "refuses MAIL_FROM=%j",
    (from) => {
      expect(refusal({ MAIL_FROM: from }).message).toBe(
        "Invalid configuration: MAIL_FROM must be one address, as `Name <address@example.com>` or `address@example.com`",
      );
    },
  );
});
