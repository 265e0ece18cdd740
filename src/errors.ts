/** Domain errors: one class per situation of the contract's error table, each with its exact message. */

export type ErrorCode =
  "UNAUTHENTICATED" | "FORBIDDEN" | "BAD_USER_INPUT" | "RATE_LIMITED" | "MFA_REQUIRED" | "INTERNAL_SERVER_ERROR" | "SERVICE_UNAVAILABLE";

/** An error whose code and message may be shown to the client; internal detail goes in `cause`. */
export abstract class AppError extends Error {
  abstract readonly code: ErrorCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }

  /** Extra public fields for `errors[].extensions`, beside `code`. */
  publicExtensions(): Record<string, unknown> {
    return {};
  }
}

/** A protected field was asked for without an `Authorization: Bearer` credential. */
export class NotAuthenticated extends AppError {
  readonly code = "UNAUTHENTICATED";
  constructor() {
    super("Not authenticated");
  }
}

/**
 * The bearer token was sent but cannot be trusted. `reason` says why, and `cause` keeps the error
 * that said so (a library's), or the reason when there is none: neither is ever sent.
 */
export class InvalidToken extends AppError {
  readonly code = "UNAUTHENTICATED";
  constructor(
    readonly reason?: string,
    cause?: unknown,
  ) {
    super("Could not validate credentials", { cause: cause ?? reason });
  }
}

/** The token is valid but lacks a scope the field needs. */
export class InsufficientScope extends AppError {
  readonly code = "FORBIDDEN";
  constructor(readonly requiredScopes: readonly string[]) {
    super("Not enough permissions");
  }
}

/** The account is disabled. */
export class InactiveUser extends AppError {
  readonly code = "FORBIDDEN";
  constructor() {
    super("Inactive user");
  }
}

/** Unknown username or wrong password: deliberately one answer for both. */
export class InvalidCredentials extends AppError {
  readonly code = "UNAUTHENTICATED";
  constructor() {
    super("Incorrect username or password");
  }
}

/** `changePassword` with a wrong current password. */
export class IncorrectPassword extends AppError {
  readonly code = "UNAUTHENTICATED";
  constructor() {
    super("Incorrect password");
  }
}

/** A refresh token that is unknown, spent, revoked or expired. */
export class InvalidRefreshToken extends AppError {
  readonly code = "UNAUTHENTICATED";
  constructor(reason?: string) {
    super("Invalid refresh token", { cause: reason });
  }
}

/** `login` asked for a scope the account does not hold. */
export class UnknownScope extends AppError {
  readonly code = "BAD_USER_INPUT";
  constructor(readonly scope: string) {
    super(`Scope not available to this account: ${scope}`);
  }
}

/** A refresh asked for a scope beyond those of the login it descends from (RFC 6749 section 6). */
export class ScopeNotGranted extends AppError {
  readonly code = "BAD_USER_INPUT";
  constructor(readonly scope: string) {
    super(`Scope not granted to this refresh token: ${scope}`);
  }
}

/**
 * A requested scope breaks the grammar of RFC 6749 section 3.3, or the request is too long. The
 * message is fixed and echoes nothing; `token`, set only for an operator's own input, is the first
 * offending token (never sent to a client).
 */
export class InvalidScope extends AppError {
  readonly code = "BAD_USER_INPUT";
  constructor(readonly token?: string) {
    super("Invalid scope");
  }
}

/** A new password outside the policy; the message says which rule. */
export class PasswordPolicyViolation extends AppError {
  readonly code = "BAD_USER_INPUT";
}

/** Any other invalid input from a user (scopes, and a field's error with its reason for the CLI). */
export class InvalidInput extends AppError {
  readonly code = "BAD_USER_INPUT";
}

/**
 * A username, e-mail address or full name outside the rules of users/user-fields.ts. The message
 * is the contract's fixed text; `reason` says which rule, for the operator's CLI and import report
 * (`detail`), and never echoes the input, which may hold bidi or invisible characters.
 */
export abstract class InvalidUserField extends AppError {
  readonly code = "BAD_USER_INPUT";
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }

  /** The message with its reason, for an operator: `Invalid username: mixes scripts (Latin, Cyrillic)`. */
  get detail(): string {
    return `${this.message}: ${this.reason}`;
  }
}

/** A username outside CONTRACT section 15's rule, or one that looks like an existing account's. */
export class InvalidUsername extends InvalidUserField {
  constructor(reason: string) {
    super("Invalid username", reason);
  }
}

/** An e-mail address that is not one, or that holds control or format characters. */
export class InvalidEmail extends InvalidUserField {
  constructor(reason: string) {
    super("Invalid email", reason);
  }
}

/** A full name that is empty, too long, or holds control or format characters. */
export class InvalidFullName extends InvalidUserField {
  constructor(reason: string) {
    super("Invalid full name", reason);
  }
}

/** The username is already taken (compared case-insensitively). */
export class UsernameTaken extends AppError {
  readonly code = "BAD_USER_INPUT";
  constructor(username: string) {
    super(`Username already exists: ${username}`);
  }
}

/** `register` with a username that exists, in any case (CONTRACT section 10's wording). */
export class RegistrationUsernameTaken extends AppError {
  readonly code = "BAD_USER_INPUT";
  constructor() {
    super("Username is taken");
  }
}

/** `register` while REGISTRATION=closed. */
export class RegistrationClosed extends AppError {
  readonly code = "FORBIDDEN";
  constructor() {
    super("Registration is closed");
  }
}

/** REQUIRE_EMAIL_VERIFICATION: a correct password, but the account's address is not verified yet. */
export class EmailNotVerified extends AppError {
  readonly code = "FORBIDDEN";
  constructor() {
    super("Email not verified");
  }
}

/** A mutation that mails, in production without SMTP_URL. */
export class MailNotConfigured extends AppError {
  readonly code = "FORBIDDEN";
  constructor() {
    super("Email is not configured");
  }
}

/** A verification or reset token that is unknown, spent, expired, or no longer bound to the account. */
export class InvalidAccountToken extends AppError {
  readonly code = "BAD_USER_INPUT";
  constructor(reason?: string) {
    super("Invalid or expired token", { cause: reason });
  }
}

/** An operator named a user that does not exist. */
export class UserNotFound extends AppError {
  readonly code = "BAD_USER_INPUT";
  constructor(username: string) {
    super(`No such user: ${username}`);
  }
}

/** Too many failed logins (or, with `what`, calls of an account mutation); `retryAfter` is in whole seconds. */
export class RateLimited extends AppError {
  readonly code = "RATE_LIMITED";
  constructor(
    readonly retryAfter: number,
    what = "failed login attempts",
  ) {
    super(`Too many ${what}; retry in ${retryAfter} seconds`);
  }

  override publicExtensions(): Record<string, unknown> {
    return { retryAfter: this.retryAfter };
  }
}

/**
 * The password was right and the account has two-factor authentication on (CONTRACT section 11):
 * no tokens yet, but an opaque `mfaToken` that `verifyMfa` (or the mfa-otp grant) takes with a code.
 */
export class MfaRequired extends AppError {
  readonly code = "MFA_REQUIRED";
  constructor(readonly mfaToken: string) {
    super("Two-factor code required");
  }

  override publicExtensions(): Record<string, unknown> {
    return { mfaToken: this.mfaToken };
  }
}

/** A wrong TOTP or recovery code at `verifyMfa`; counted like a failed login. */
export class InvalidMfaCode extends AppError {
  readonly code = "UNAUTHENTICATED";
  constructor() {
    super("Invalid code");
  }
}

/** An unknown, spent or expired `mfaToken`. */
export class InvalidMfaToken extends AppError {
  readonly code = "UNAUTHENTICATED";
  constructor(readonly reason?: string) {
    super("Invalid or expired MFA token", { cause: reason });
  }
}

/** `confirmTotp` with a code that does not match the pending enrolment (or with none pending). */
export class InvalidEnrollmentCode extends AppError {
  readonly code = "BAD_USER_INPUT";
  constructor() {
    super("Invalid code");
  }
}

/** `enrollTotp` while two-factor authentication is already on. */
export class MfaAlreadyEnabled extends AppError {
  readonly code = "BAD_USER_INPUT";
  constructor() {
    super("Two-factor authentication is already enabled");
  }
}

/** `regenerateRecoveryCodes` while two-factor authentication is off. */
export class MfaNotEnabled extends AppError {
  readonly code = "BAD_USER_INPUT";
  constructor() {
    super("Two-factor authentication is not enabled");
  }
}

/**
 * No key to encrypt TOTP secrets with: an asymmetric JWT_ALGORITHM without SECRET_KEY or
 * MFA_ENCRYPTION_KEY. Enrolment is refused rather than storing a secret in the clear.
 */
export class MfaNotConfigured extends AppError {
  readonly code = "FORBIDDEN";
  constructor() {
    super("Two-factor authentication is not configured");
  }
}

/**
 * The database cannot answer now (unreachable, restarting, not yet migrated). The one AppError
 * that is our fault rather than the client's: it is logged, and the client may simply retry.
 */
export class ServiceUnavailable extends AppError {
  readonly code = "INTERNAL_SERVER_ERROR";
  constructor(cause?: unknown) {
    super("Service unavailable", { cause });
  }
}

/**
 * The password service cannot take this verification now: its queue is full (HASH_QUEUE_MAX) or
 * it is shutting down. Answered HTTP 503 with `Retry-After` by both doors; the attempt was never
 * verified, so it is given back to the failed-login budget. Not a fault: logged at most at info.
 */
export abstract class HashingUnavailable extends AppError {
  readonly code = "SERVICE_UNAVAILABLE";
  /** Whether the answer should end its connection (the process is stopping). */
  abstract readonly closeConnection: boolean;

  constructor(
    message: string,
    readonly retryAfter: number,
  ) {
    super(message);
  }

  override publicExtensions(): Record<string, unknown> {
    return { retryAfter: this.retryAfter };
  }
}

/** CONTRACT section 15: more verifications are waiting than HASH_QUEUE_MAX allows; `retryAfter` in whole seconds. */
export class ServerBusy extends HashingUnavailable {
  readonly closeConnection = false;
  constructor(retryAfter: number) {
    super(`Server busy; retry in ${retryAfter} seconds`, retryAfter);
  }
}

/** A verification that was waiting, or arrived, while the process stops (SIGTERM): another instance may answer. */
export class ShuttingDown extends HashingUnavailable {
  readonly closeConnection = true;
  constructor() {
    super("Server shutting down; retry in 1 seconds", 1);
  }
}

/**
 * The client went away before its verification started: it is dropped unhashed. Nobody reads the
 * answer; it is an AppError only so that it is neither logged as a fault nor counted as a failure.
 */
export class ClientGone extends HashingUnavailable {
  readonly closeConnection = true;
  constructor() {
    super("Client closed the connection", 1);
  }
}

/**
 * A request refused at the HTTP edge before any route reads it. Fastify's error handlers (the
 * root one, and /token's in the OAuth shape) answer `statusCode` with the fixed message, which
 * never echoes what the client sent.
 */
export abstract class HttpRefusal extends Error {
  abstract readonly statusCode: 400 | 415 | 421;
  abstract readonly code: string;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The body is not valid UTF-8: decoding it would turn any invalid bytes into U+FFFD alike. */
export class InvalidUtf8Body extends HttpRefusal {
  readonly statusCode = 400;
  readonly code = "invalid_body";
  constructor() {
    super("The request body is not valid UTF-8");
  }
}

/** The Content-Type names a charset other than UTF-8, the only one bodies are read in. */
export class UnsupportedCharset extends HttpRefusal {
  readonly statusCode = 415;
  readonly code = "unsupported_media_type";
  constructor() {
    super("Unsupported charset: request bodies must be UTF-8");
  }
}

/** The body is compressed (or otherwise encoded); nothing here decodes it. */
export class UnsupportedContentEncoding extends HttpRefusal {
  readonly statusCode = 415;
  readonly code = "unsupported_media_type";
  constructor() {
    super("Unsupported Content-Encoding: send the body without one");
  }
}

/** The Host header names a host this server is not configured to answer for (DNS rebinding). */
export class HostNotAllowed extends HttpRefusal {
  readonly statusCode = 421;
  readonly code = "misdirected_request";
  constructor() {
    super("This server does not answer for that host");
  }
}

/**
 * For states the code itself rules out. Never shown to a client: it is masked like any
 * unexpected error.
 */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`Invariant failed: ${message}`);
}

const FILE_ERRORS: Record<string, string> = {
  ENOENT: "no such file",
  EACCES: "permission denied",
  EISDIR: "not a regular file",
};

/** An operator named a file that cannot be opened or read (`users import`). */
export class UnreadableFile extends AppError {
  readonly code = "BAD_USER_INPUT";
  constructor(path: string, errorCode?: string) {
    super(`Cannot read ${path}: ${(errorCode && FILE_ERRORS[errorCode]) ?? errorCode ?? "unreadable"}`);
  }
}

/** A connection's `first` outside 1..100 (CONTRACT section 12). */
export class PageSizeOutOfRange extends AppError {
  readonly code = "BAD_USER_INPUT";
  constructor() {
    super("first must be between 1 and 100");
  }
}

/** An `after` cursor this server did not hand out. */
export class InvalidCursor extends AppError {
  readonly code = "BAD_USER_INPUT";
  constructor() {
    super("Invalid cursor");
  }
}

/** An `authEvents(type:)` filter that names none of the contract's event types. */
export class UnknownEventType extends AppError {
  readonly code = "BAD_USER_INPUT";
  constructor() {
    super("Unknown event type");
  }
}

/** An admin mutation named a user id that does not exist (CONTRACT section 12). */
export class UnknownUser extends AppError {
  readonly code = "BAD_USER_INPUT";
  constructor() {
    super("Unknown user");
  }
}

/** An admin tried to disable or delete their own account, or to drop `admin` from it. */
export class OwnAccountRefused extends AppError {
  readonly code = "BAD_USER_INPUT";
  constructor() {
    super("You cannot do that to your own account");
  }
}
