/** The email-verification use cases: mail a link to the account's address, and spend it. */
import { type Kysely } from "kysely";
import { type Database } from "../db/database";
import { InvalidAccountToken, MailNotConfigured } from "../errors";
import { type User } from "../users/user.entity";
import { countCall, VERIFICATION_LIFETIME_MS, VERIFICATION_REQUEST_BUDGET, type AccountsDeps } from "./accounts-deps";
import { verificationMail } from "./account-mails";
import { digest, issueAccountToken, spendAccountToken } from "./account-token.store";

/**
 * Issues a verification token bound to the user's current address and queues its mail, in the
 * caller's transaction. Nothing for an account without an address.
 * @returns whether a mail was queued.
 */
export async function queueVerificationMail(deps: AccountsDeps, trx: Kysely<Database>, user: User): Promise<boolean> {
  if (user.email === null) return false;
  const token = await issueAccountToken(trx, {
    userId: user.id,
    purpose: "verify_email",
    binding: digest(user.email),
    lifetimeMs: VERIFICATION_LIFETIME_MS,
    now: deps.clock.now(),
  });
  await deps.mail.enqueueMail(trx, verificationMail(user.email, user.username, deps.config.appUrl, token));
  return true;
}

/**
 * Mails the viewer a new verification link (`requestEmailVerification`). An account without an
 * address, or whose address is verified already, gets nothing; the answer is true either way.
 * @throws MailNotConfigured in production without SMTP_URL; RateLimited past 5 calls per client
 *   address per 15 minutes.
 */
export async function requestEmailVerification(deps: AccountsDeps, viewer: User, clientAddress: string): Promise<true> {
  if (!deps.mail.configured) throw new MailNotConfigured();
  await countCall(deps, VERIFICATION_REQUEST_BUDGET, clientAddress);
  if (viewer.email === null || viewer.emailVerified) return true;
  await deps.users.transaction((_users, trx) => queueVerificationMail(deps, trx, viewer));
  deps.logger.info({ userId: viewer.id }, "verification mail queued");
  return true;
}

/**
 * Spends a verification token and marks the address verified, if the account's address is still
 * the one the link was mailed to.
 * @throws InvalidAccountToken for an unknown, spent or expired token, or one mailed to an address
 *   the account no longer has (nothing is spent then).
 */
export async function verifyEmail(deps: AccountsDeps, token: string): Promise<true> {
  await deps.users.transaction(async (users, trx) => {
    const grant = await spendAccountToken(trx, token, "verify_email", deps.clock.now());
    if (!grant) throw new InvalidAccountToken("unknown, spent or expired");
    const user = await users.findUserById(grant.userId);
    if (!user?.email || digest(user.email) !== grant.binding) throw new InvalidAccountToken("the address has changed");
    await users.markEmailVerified(user.id, user.email);
    deps.logger.info({ userId: user.id }, "email address verified");
  });
  return true;
}
