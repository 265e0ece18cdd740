/** The two account mails: their exact subjects (CONTRACT section 10) and the links, the token in the fragment. */
import { type OutgoingMail } from "../mail/mail";

export const VERIFY_SUBJECT = "Verify your email address";
export const RESET_SUBJECT = "Reset your password";

/**
 * The token goes in the fragment, which a browser never sends to a server (nor in a Referer), so
 * it reaches no access log; the page reads it and spends it only on a click or a submitted form.
 */
export function verificationMail(to: string, username: string, appUrl: string, token: string): OutgoingMail {
  const link = `${appUrl}/verify-email#token=${token}`;
  return {
    to,
    subject: VERIFY_SUBJECT,
    text: [
      `Hello ${username},`,
      "",
      "Confirm that this is your email address by opening this link and pressing the button:",
      "",
      link,
      "",
      "The link works once, for 24 hours. If you did not ask for this, ignore this message.",
    ].join("\n"),
  };
}

export function resetMail(to: string, username: string, appUrl: string, token: string): OutgoingMail {
  const link = `${appUrl}/reset-password#token=${token}`;
  return {
    to,
    subject: RESET_SUBJECT,
    text: [
      `Hello ${username},`,
      "",
      "Someone asked to reset the password of your account. To choose a new one, open this link:",
      "",
      link,
      "",
      "The link works once, for 30 minutes, and stops working if the password changes meanwhile.",
      "If you did not ask for this, ignore this message: your password stays as it is.",
    ].join("\n"),
  };
}
