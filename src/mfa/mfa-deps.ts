/** What the two-factor use cases are built from. */
import { type CurrentPasswordDeps } from "../auth/current-password";
import { type LoginLimiter } from "../auth/rate-limit";
import { type SessionDeps } from "../auth/refresh-tokens";
import { type MfaStore } from "./mfa.store";
import { type MfaKeys } from "./secret-box";

export interface MfaDeps extends SessionDeps, CurrentPasswordDeps {
  readonly mfa: MfaStore;
  readonly limiter: LoginLimiter;
  /**
   * The keys TOTP secrets are sealed and opened with (secret-box.ts): MFA_ENCRYPTION_KEY and one
   * derived from SECRET_KEY. None without either (an asymmetric JWT_ALGORITHM alone): enrolment is refused.
   */
  readonly mfaKeys: MfaKeys;
  /** JWT_ISSUER: the issuer an authenticator app shows beside the account. */
  readonly issuer: string;
}
