/** A real SMTP server for tests (smtp-server on an ephemeral port), keeping every message parsed by mailparser. */
import { type AddressInfo } from "node:net";
import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer } from "smtp-server";

export interface SmtpSink {
  readonly port: number;
  /** SMTP_URL for this server, with the credentials it accepts. */
  readonly url: string;
  readonly user: string;
  readonly password: string;
  /** Every message accepted, in order, with its envelope. */
  readonly received: Array<{ mail: ParsedMail; envelopeTo: string[]; envelopeFrom: string }>;
  /** `down`: every connection is answered `421` and closed; `up`: messages are accepted. */
  setMode(mode: "up" | "down"): void;
  /** Connections refused while down. */
  refusals(): number;
  close(): Promise<void>;
}

export async function startSmtpSink(options: { port?: number } = {}): Promise<SmtpSink> {
  const user = "mailer";
  const password = `smtp-pass-${Math.random().toString(36).slice(2)}`;
  const received: SmtpSink["received"] = [];
  let mode: "up" | "down" = "up";
  let refused = 0;
  const server = new SMTPServer({
    logger: false,
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    onConnect(_session, callback) {
      if (mode === "up") return callback();
      refused += 1;
      callback(Object.assign(new Error("Service not available, try again later"), { responseCode: 421 }));
    },
    onAuth(auth, _session, callback) {
      if (auth.username === user && auth.password === password) return callback(null, { user });
      callback(Object.assign(new Error("Invalid credentials"), { responseCode: 535 }));
    },
    // A recipient whose address starts with "reject-" has no mailbox here: a permanent 550.
    onRcptTo(address, _session, callback) {
      if (!address.address.startsWith("reject-")) return callback();
      callback(Object.assign(new Error(`<${address.address}>: Recipient address rejected`), { responseCode: 550 }));
    },
    onData(stream, session, callback) {
      simpleParser(stream).then(
        (mail) => {
          received.push({
            mail,
            envelopeTo: session.envelope.rcptTo.map((r) => r.address),
            envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          });
          callback();
        },
        (error: Error) => callback(error),
      );
    },
  });
  // smtp-server emits 'error' for a client that drops the line; without a listener it would throw.
  server.on("error", () => undefined);
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    url: `smtp://${user}:${password}@127.0.0.1:${port}`,
    user,
    password,
    received,
    setMode: (next) => void (mode = next),
    refusals: () => refused,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Polls `check` every 20 ms until it returns true; fails after `timeoutMs`, naming `what`. */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
