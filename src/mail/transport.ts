/** Where a message goes: an SMTP server through nodemailer, or an `.eml` file in the development outbox. */
import { closeSync, mkdirSync, openSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import nodemailer from "nodemailer";
import addressparser from "nodemailer/lib/addressparser";
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from "../db/private-files";
import { type ClaimedMail } from "./outbox.store";

export interface Delivery {
  readonly messageId: string | undefined;
  /** The `.eml` file's name (development outbox only). */
  readonly file?: string;
}

export interface MailTransport {
  /**
   * Delivers one message, or rejects. `signal` aborts it (shutdown, the send deadline); an
   * aborted delivery rejects with an error named "AbortError".
   */
  deliver(mail: ClaimedMail, signal: AbortSignal): Promise<Delivery>;
}

export interface TransportTimeouts {
  /** Connecting, the greeting, and any silence in the middle of a conversation, each at most this long. */
  readonly socketTimeoutMs: number;
}

/** The SMTP server SMTP_URL names (`smtp://user:pass@host:port`, `smtps://…`), through nodemailer. */
export function smtpTransport(smtpUrl: string, from: string, timeouts: TransportTimeouts): MailTransport {
  const transporter = nodemailer.createTransport({
    url: smtpUrl,
    // Bounded, so a silent server cannot hold a message past its lease (nodemailer's defaults
    // are 2 and 10 minutes).
    connectionTimeout: timeouts.socketTimeoutMs,
    greetingTimeout: timeouts.socketTimeoutMs,
    socketTimeout: timeouts.socketTimeoutMs,
    dnsTimeout: timeouts.socketTimeoutMs,
    // nodemailer's own logger would write addresses and the conversation.
    logger: false,
    debug: false,
  });
  const envelopeFrom = mailboxAddress(from);
  return {
    deliver: async (mail, signal) => {
      const info = await transporter.sendMail({
        ...message(mail, from),
        envelope: { from: envelopeFrom, to: [mail.to] },
        signal,
      });
      return { messageId: info.messageId };
    },
  };
}

/**
 * Development without SMTP_URL: each message becomes `<time>-<id>.eml` in `dir` (made 0700), the
 * file 0600 from its creation (the modes are given to open and mkdir, never set afterwards), so a
 * developer opens the link in a mail client or reads it as text.
 */
export function fileTransport(dir: string, from: string): MailTransport {
  const transporter = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" });
  return {
    deliver: async (mail, signal) => {
      const info = await transporter.sendMail({ ...message(mail, from), signal });
      mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
      const file = `${new Date(mail.createdAt).toISOString().replace(/[-:.]/g, "")}-${mail.id}.eml`;
      // Written aside, then renamed: a crash mid-write leaves no half message under the real name,
      // and a retry after a crash between renaming and marking sent rewrites the same message.
      const partial = join(dir, `.${file}.partial`);
      const fd = openSync(partial, "w", PRIVATE_FILE_MODE);
      try {
        writeSync(fd, info.message as Buffer);
      } finally {
        closeSync(fd);
      }
      renameSync(partial, join(dir, file));
      return { messageId: info.messageId, file };
    },
  };
}

function message(mail: ClaimedMail, from: string) {
  return {
    from,
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    ...(mail.html !== undefined && { html: mail.html }),
    // RFC 3834: an automatic message, so vacation responders do not answer it.
    headers: { "Auto-Submitted": "auto-generated" },
  };
}

/** The bare address of `Name <address>` (config has checked that there is exactly one). */
function mailboxAddress(from: string): string {
  const [first] = addressparser(from);
  return first && "address" in first && first.address ? first.address : from;
}
