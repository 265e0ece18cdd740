/** The sign-up use case: an account of one's own, its address unverified until the mailed link is followed. */
import { MailNotConfigured, RegistrationClosed, RegistrationUsernameTaken, UsernameTaken } from "../errors";
import { addUser } from "../users/add-user";
import { type User } from "../users/user.entity";
import { countCall, REGISTER_BUDGET, type AccountsDeps } from "./accounts-deps";
import { queueVerificationMail } from "./email-verification";

export interface RegisterRequest {
  readonly username: string;
  readonly email: string;
  readonly password: string;
  readonly fullName?: string | null;
  readonly clientAddress: string;
}

/**
 * Registers an account through the one "add a user" use case (the fields' and the password's
 * rules, DEFAULT_SCOPES), with its address unverified, and queues the verification mail in the
 * same transaction as the insert.
 * @returns the new account (emailVerified false).
 * @throws RegistrationClosed unless REGISTRATION=open; MailNotConfigured without a way to mail;
 *   RateLimited past 10 calls per client address per 15 minutes; InvalidUsername, InvalidEmail,
 *   InvalidFullName; RegistrationUsernameTaken; PasswordPolicyViolation.
 */
export async function register(deps: AccountsDeps, request: RegisterRequest): Promise<User> {
  if (!deps.config.registrationOpen) throw new RegistrationClosed();
  // Start-up refuses REGISTRATION=open without mail in production; this is the belt to those braces.
  if (!deps.mail.configured) throw new MailNotConfigured();
  await countCall(deps, REGISTER_BUDGET, request.clientAddress);
  try {
    const user = await addUser(
      { users: deps.users, passwords: deps.passwords, defaultScopes: deps.config.defaultScopes },
      {
        username: request.username,
        email: request.email,
        fullName: request.fullName ?? null,
        emailVerified: false,
        password: async () => request.password,
        inTransaction: (created, trx) => queueVerificationMail(deps, trx, created).then(() => undefined),
      },
    );
    deps.logger.info({ userId: user.id }, "account registered; verification mail queued");
    return user;
  } catch (error) {
    if (error instanceof UsernameTaken) throw new RegistrationUsernameTaken();
    throw error;
  }
}
