/** The sender loop: claims due messages from the outbox, delivers them, settles them; one per server process. */
import { randomUUID } from "node:crypto";
import { type Kysely } from "kysely";
import { DeliveryLoop, SHUTDOWN } from "../background/delivery-loop";
import { type Clock } from "../clock";
import { type Database } from "../db/database";
import { backoffDelay, type BackoffPolicy } from "../db/startup";
import { type Logger } from "../log";
import { type Metrics } from "../metrics/metrics";
import { claimNextMail, markMailFailed, markMailSent, releaseMail, scheduleMailRetry, type ClaimedMail } from "./outbox.store";
import { type MailTransport } from "./transport";

/** Every timing of the outbox in one place; tests shorten them through AppOverrides.mail. */
export interface MailTiming {
  /** The wait between looks at the outbox when nothing was due. */
  readonly pollIntervalMs: number;
  /** How long a claim holds a message; longer than sendTimeoutMs, so a live sender never loses one. */
  readonly leaseMs: number;
  /** A delivery taking longer is aborted and retried (a server trickling its answers). */
  readonly sendTimeoutMs: number;
  /** Connecting, the greeting, or any silence of the SMTP server, each at most this long. */
  readonly socketTimeoutMs: number;
  /** The wait after each failed attempt: doubling from initialDelayMs up to maxDelayMs. */
  readonly retry: BackoffPolicy;
  /** A message still failing this long after it was queued is marked failed (at least an hour). */
  readonly retryForMs: number;
  /** close() lets the message in hand finish this long, then aborts it and hands it back. */
  readonly shutdownGraceMs: number;
}

export const DEFAULT_MAIL_TIMING: MailTiming = {
  pollIntervalMs: 1_000,
  leaseMs: 5 * 60_000,
  sendTimeoutMs: 60_000,
  socketTimeoutMs: 15_000,
  // 15 s, 30 s, 1 min, 2 min, ... then every 15 min: about 20 attempts in the 4 hours.
  retry: { initialDelayMs: 15_000, maxDelayMs: 15 * 60_000 },
  // A reset link lives 30 minutes and a verification link 24 hours; 4 hours of retries outlast
  // any SMTP restart or short outage and still deliver a verification link worth following.
  retryForMs: 4 * 60 * 60_000,
  shutdownGraceMs: 2_000,
};

export interface MailSenderDeps {
  readonly db: Kysely<Database>;
  readonly transport: MailTransport;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly timing: MailTiming;
  /** Counts each delivery attempt's outcome (`sent`, `retry`, `failed`). */
  readonly metrics: Metrics;
}

/**
 * Delivers the outbox, one message at a time, in every server process. A message is claimed with a
 * lease (see claimNextMail), so any number of senders on one database deliver it once while they
 * live; one whose process dies mid-delivery is claimed again when its lease ends (at least once).
 */
export class MailSender {
  /** This sender's name in `lease_owner`. */
  private readonly owner = randomUUID();
  private readonly loop: DeliveryLoop;

  constructor(private readonly deps: MailSenderDeps) {
    const { pollIntervalMs, shutdownGraceMs } = deps.timing;
    this.loop = new DeliveryLoop({
      name: "mail outbox",
      pollIntervalMs,
      shutdownGraceMs,
      logger: deps.logger,
      deliverOne: () => this.sendOne(),
      summarise: errorSummary,
    });
  }

  /** Starts the loop once `ready` (the database migrated) resolves; a second call does nothing. */
  start(ready: Promise<void>): void {
    this.loop.start(ready);
  }

  /** Stops the loop; the delivery in hand may finish for shutdownGraceMs, then is handed back untried. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Claims and delivers one due message. @returns whether there was one. */
  private async sendOne(): Promise<boolean> {
    const { db, transport, clock, logger, timing } = this.deps;
    const mail = await claimNextMail(db, this.owner, clock.now(), timing.leaseMs);
    if (!mail) return false;
    // Stopped while claiming: hand it back rather than start a delivery nothing would cut short.
    if (this.loop.stopped) {
      await releaseMail(db, mail.id, this.owner);
      return true;
    }
    const controller = this.loop.hold();
    const deadline = setTimeout(() => controller.abort(), timing.sendTimeoutMs);
    let delivery;
    try {
      delivery = await transport.deliver(mail, controller.signal);
    } catch (error) {
      if (controller.signal.reason === SHUTDOWN) {
        await releaseMail(db, mail.id, this.owner);
        logger.info({ mailId: mail.id }, "mail handed back at shutdown");
      } else {
        await this.failed(mail, controller.signal.aborted ? "timeout" : failureCode(error), isPermanent(error));
      }
      return true;
    } finally {
      clearTimeout(deadline);
      this.loop.release(controller);
    }
    this.deps.metrics.emailOutcome("sent");
    await markMailSent(db, mail.id, this.owner, clock.now(), delivery.messageId);
    // The message id and the outcome only: never the body, a link or the recipient.
    if (delivery.file !== undefined)
      logger.info({ mailId: mail.id, file: delivery.file }, `mail written to the development outbox: ${delivery.file}`);
    else logger.info({ mailId: mail.id, attempts: mail.attempts + 1 }, "mail sent");
    return true;
  }

  private async failed(mail: ClaimedMail, code: string, permanent: boolean): Promise<void> {
    const { db, clock, logger, timing } = this.deps;
    const attempts = mail.attempts + 1;
    const now = clock.now();
    if (permanent || now - mail.createdAt >= timing.retryForMs) {
      this.deps.metrics.emailOutcome("failed");
      await markMailFailed(db, mail.id, this.owner, code);
      logger.warn(
        { mailId: mail.id, attempts, error: code },
        permanent ? "mail refused by the SMTP server; not retried" : "mail not delivered after retrying; given up",
      );
      return;
    }
    const retryInMs = backoffDelay(timing.retry, attempts);
    this.deps.metrics.emailOutcome("retry");
    await scheduleMailRetry(db, mail.id, this.owner, now + retryInMs, code);
    logger.info({ mailId: mail.id, attempts, error: code, retryInMs }, "mail delivery failed; retrying");
  }
}

/**
 * A failure as a short code, `ECONNECTION` or `EENVELOPE 550`: never the error's message or the
 * server's reply, which can carry the recipient's address.
 */
function failureCode(error: unknown): string {
  const { code, responseCode } = (error ?? {}) as { code?: unknown; responseCode?: unknown };
  const name = typeof code === "string" && /^[A-Z][A-Z0-9_]{0,30}$/.test(code) ? code : "ERROR";
  return typeof responseCode === "number" ? `${name} ${responseCode}` : name;
}

/** A 5xx reply to the envelope or the message: that server will never take it (no such mailbox, too large). */
function isPermanent(error: unknown): boolean {
  const { code, responseCode } = (error ?? {}) as { code?: unknown; responseCode?: unknown };
  return (code === "EENVELOPE" || code === "EMESSAGE") && typeof responseCode === "number" && responseCode >= 500;
}

function errorSummary(error: unknown): { code?: unknown; message: string } {
  return { code: (error as { code?: unknown }).code, message: error instanceof Error ? error.message : String(error) };
}
