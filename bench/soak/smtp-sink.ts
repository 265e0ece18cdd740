/** A real SMTP server (smtp-server on an ephemeral port) that accepts and counts the mail the soaked server sends. */
import { type AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface SmtpSink {
  /** SMTP_URL for the server, with the credentials this sink accepts. */
  readonly url: string;
  /** Messages accepted so far. */
  readonly received: number;
  close(): Promise<void>;
}

/** Starts the sink on 127.0.0.1; messages are read to their end and dropped (the soak counts, it does not parse). */
export async function startSmtpSink(): Promise<SmtpSink> {
  const user = "soak";
  const password = `soak-smtp-${Math.random().toString(36).slice(2)}`;
  let received = 0;
  const server = new SMTPServer({
    logger: false,
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      if (auth.username === user && auth.password === password) return callback(null, { user });
      callback(Object.assign(new Error("Invalid credentials"), { responseCode: 535 }));
    },
    onData(stream, _session, callback) {
      stream.on("end", () => {
        received += 1;
        callback();
      });
      stream.resume();
    },
  });
  // smtp-server emits 'error' for a client that drops the line; without a listener it would throw.
  server.on("error", () => undefined);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://${user}:${password}@127.0.0.1:${port}`,
    get received() {
      return received;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
