/** What the two-factor use cases are built from. */
import { type KeyObject } from "node:crypto";
import { type CurrentPasswordDeps } from "../auth/current-password";
import { type LoginLimiter } from "../auth/rate-limit";
import { type SessionDeps } from "../auth/refresh-tokens";
import { type MfaStore } from "./mfa.store";

export interface MfaDeps extends SessionDeps, CurrentPasswordDeps {
  readonly mfa: MfaStore;
  readonly limiter: LoginLimiter;
  /**
   * The key TOTP secrets are sealed with (secret-box.ts): MFA_ENCRYPTION_KEY, or derived from the
   * HS256 secret. Undefined without either (an asymmetric JWT_ALGORITHM alone): enrolment is refused.
   */
  readonly mfaKey: KeyObject | undefined;
  /** JWT_ISSUER: the issuer an authenticator app shows beside the account. */
  readonly issuer: string;
}
