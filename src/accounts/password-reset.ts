/** The password-reset use cases: mail a link to every active account of an address, and spend one. */
import { setTimeout as sleep } from "node:timers/promises";
import { revokeSessionsOfUser } from "../sessions/session.store";
import { InvalidAccountToken, InvalidEmail, MailNotConfigured } from "../errors";
import { checkNewPassword } from "../passwords/password-policy";
import { checkEmail } from "../users/user-fields";
import { countCall, RESET_LIFETIME_MS, RESET_MAIL_BUDGET, RESET_REQUEST_BUDGET, type AccountsDeps } from "./accounts-deps";
import { resetMail } from "./account-mails";
import { digest, findLiveAccountToken, issueAccountToken, spendAccountToken } from "./account-token.store";

/**
 * How long every requestPasswordReset answer takes at least (real time, not the injected clock):
 * well above what queueing the mails of a few accounts costs on either database, so the answers
 * for known and unknown addresses leave together.
 */
export const RESET_ANSWER_FLOOR_MS = 150;

/** What a reset token is bound to: the stored hash (none for an account without a usable password). */
function passwordBinding(passwordHash: string | null): string {
  return digest(passwordHash ?? "");
}

/**
 * Queues one reset link per active account with this address, compared case-insensitively
 * (`requestPasswordReset`). The answer is true whatever the address: known, unknown, disabled,
 * malformed, or over its 3 mails an hour; mail is only queued here, never sent in the request.
 * @throws MailNotConfigured in production without SMTP_URL; RateLimited past 5 calls per client
 *   address per 15 minutes (counted before anything about the address is looked at).
 */
export async function requestPasswordReset(deps: AccountsDeps, email: string, clientAddress: string): Promise<true> {
  if (!deps.mail.configured) throw new MailNotConfigured();
  await countCall(deps, RESET_REQUEST_BUDGET, clientAddress);
  // A known address costs a write transaction (tokens and mails queued) that an unknown one does
  // not: every answer from here on waits out the same floor, so its time says nothing either.
  const started = performance.now();
  try {
    return await queueResetMails(deps, email);
  } finally {
    const left = RESET_ANSWER_FLOOR_MS - (performance.now() - started);
    if (left > 0) await sleep(left);
  }
}

/** The part of requestPasswordReset whose time depends on the address. */
async function queueResetMails(deps: AccountsDeps, email: string): Promise<true> {
  let address: string;
  try {
    address = checkEmail(email);
  } catch (error) {
    if (error instanceof InvalidEmail) return true;
    throw error;
  }
  // Counted for unknown addresses too, so the count says nothing about which ones exist.
  // Keyed by a digest: the counters table keeps no address, least of all one that has no account.
  if ((await deps.actions.count(RESET_MAIL_BUDGET, digest(address.toLowerCase()), "id")) > 0) return true;
  const accounts = await deps.users.findActiveCredentialsByEmail(address);
  if (accounts.length === 0) return true;
  const now = deps.clock.now();
  await deps.users.transaction(async (_users, trx) => {
    for (const { user, passwordHash } of accounts) {
      const token = await issueAccountToken(trx, {
        userId: user.id,
        purpose: "reset_password",
        binding: passwordBinding(passwordHash),
        lifetimeMs: RESET_LIFETIME_MS,
        now,
      });
      await deps.mail.enqueueMail(trx, resetMail(user.email!, user.username, deps.config.appUrl, token));
      await deps.audit.recordEvent(trx, { type: "password.reset_requested", userId: user.id });
    }
  });
  deps.logger.info({ userIds: accounts.map((a) => a.user.id) }, "password reset mail queued");
  return true;
}

/**
 * Spends a reset token: sets the new password (argon2id), marks the address verified, ends every
 * session and access token of the user (revokeAllTokensOfUser) and clears the username's
 * failed-login count. Two-factor state is not touched.
 * @throws InvalidAccountToken for an unknown, spent or expired token, one of a disabled account, or
 *   one whose password has changed since it was issued (any change, by any door, kills it);
 *   PasswordPolicyViolation (nothing spent, nothing hashed).
 */
export async function resetPassword(deps: AccountsDeps, token: string, newPassword: string): Promise<true> {
  const { users } = deps;
  // Looked at first without spending it, so a dead link costs no hash and a refused password
  // leaves the link usable for a second try.
  const live = await findLiveAccountToken(deps.db, token, "reset_password", deps.clock.now());
  const found = live && (await users.findCredentialsById(live.userId));
  if (!live || !found || found.user.disabled || passwordBinding(found.passwordHash) !== live.binding) {
    throw new InvalidAccountToken("unknown, spent, expired, disabled or superseded");
  }
  checkNewPassword(newPassword);
  const replacement = await deps.passwords.hash(newPassword);

  await users.transaction(async (store, trx) => {
    // Spent and checked again inside the write: of two uses at once exactly one gets here, and a
    // password changed meanwhile (the hash no longer `expected`) writes nothing.
    const grant = await spendAccountToken(trx, token, "reset_password", deps.clock.now());
    if (!grant || grant.userId !== found.user.id) throw new InvalidAccountToken("spent meanwhile");
    const version = await store.resetPassword(found.user.id, found.passwordHash, replacement);
    if (version === undefined) throw new InvalidAccountToken("the password changed meanwhile");
    // The token version moved with the hash (every access token dies); every session ends in the
    // same transaction, as a password change does, so no crash can leave a refresh token alive.
    await revokeSessionsOfUser(trx, found.user.id, deps.clock.now());
    await deps.audit.recordEvent(trx, { type: "password.reset", userId: found.user.id });
  });
  await deps.limiter.clearUsername(found.user.username);
  deps.logger.info({ userId: found.user.id }, "password reset: every session and token ended");
  return true;
}
