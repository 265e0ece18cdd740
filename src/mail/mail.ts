/** The mail capability: enqueueMail for use cases, whether mail is configured, and the process's sender. */
import { type Kysely } from "kysely";
import { type Clock } from "../clock";
import { type Config } from "../config";
import { type Database } from "../db/database";
import { type Logger } from "../log";
import { type Metrics } from "../metrics/metrics";
import { DEFAULT_MAIL_TIMING, MailSender, type MailTiming } from "./mail-sender";
import { insertMail, type OutgoingMail } from "./outbox.store";
import { fileTransport, smtpTransport, type MailTransport } from "./transport";

export type { OutgoingMail } from "./outbox.store";

/** What tests change: the timings, and the development outbox folder. */
export interface MailOverrides extends Partial<MailTiming> {
  readonly outboxDir?: string;
}

export interface Mail {
  /**
   * False in production without SMTP_URL: nothing is sent, and the use cases that mail answer
   * `FORBIDDEN "Email is not configured"` (and `REGISTRATION=open` refuses to start) instead.
   */
  readonly configured: boolean;
  /**
   * Queues a message in the outbox. Call it with the use case's own transaction, so the message
   * is committed with what caused it, or not at all; the sender delivers it later, never inside
   * the request (an answer's time never depends on mail).
   * @returns the message's id (the `mailId` of the sender's log lines).
   */
  enqueueMail(trx: Kysely<Database>, mail: OutgoingMail): Promise<string>;
  /** Starts this process's sender once `ready` (the database migrated) resolves. */
  start(ready: Promise<void>): void;
  /** Stops the sender: the message in hand finishes, or is handed back after a short grace. */
  stop(): Promise<void>;
}

export interface MailDeps {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/**
 * Chooses the transport from the configuration: SMTP_URL's server; without it, `.eml` files in
 * the outbox folder outside production, and nothing at all in production.
 */
export function createMail(config: Pick<Config, "nodeEnv" | "mail">, deps: MailDeps, overrides: MailOverrides = {}): Mail {
  const { outboxDir, ...timingOverrides } = overrides;
  const timing: MailTiming = { ...DEFAULT_MAIL_TIMING, ...timingOverrides };
  const { smtpUrl, from } = config.mail;
  const folder = outboxDir ?? config.mail.outboxDir;
  let transport: MailTransport | undefined;
  if (smtpUrl !== undefined) transport = smtpTransport(smtpUrl, from, timing);
  else if (config.nodeEnv !== "production") transport = fileTransport(folder, from);
  const sender =
    transport && new MailSender({ db: deps.db, transport, clock: deps.clock, logger: deps.logger, timing, metrics: deps.metrics });
  return {
    configured: transport !== undefined,
    enqueueMail: (trx, mail) => insertMail(trx, mail, deps.clock.now()),
    start: (ready) => {
      if (!sender) {
        deps.logger.info("mail is not configured (SMTP_URL is unset in production): nothing is sent");
        return;
      }
      if (smtpUrl !== undefined) deps.logger.info("mail is sent through the SMTP server of SMTP_URL");
      else deps.logger.info({ folder }, `mail is written as .eml files to ${folder} (SMTP_URL is unset)`);
      sender.start(ready);
    },
    stop: async () => {
      await sender?.stop();
    },
  };
}
