/**
 * What the login story needs of a second factor, declared here and implemented by src/mfa/ (wired
 * in the composition root), so that auth/ never imports the capability that builds on it.
 */
import { type TokenPair } from "./refresh-tokens";

/** The password step of a two-factor login, just passed. */
export interface SecondFactorChallenge {
  readonly userId: string;
  /** The scopes granted at the password step: the session the code finishes carries these. */
  readonly scopes: readonly string[];
  /** The user's token version at the password step: a change since then voids the challenge. */
  readonly tokenVersion: number;
}

/** The second step: the mfaToken with a TOTP or recovery code. */
export interface SecondFactorVerification {
  readonly mfaToken: string;
  readonly code: string;
  readonly clientAddress: string;
  readonly userAgent?: string;
}

export interface SecondFactor {
  /** Whether the user has two-factor authentication on. */
  isEnabled(userId: string): Promise<boolean>;
  /** Starts the second step. @returns the opaque mfaToken (5 minutes, single use). */
  challenge(challenge: SecondFactorChallenge): Promise<string>;
  /**
   * Finishes a two-factor login and starts its session.
   * @throws InvalidMfaToken, InvalidMfaCode (counted as a failed login), RateLimited, InactiveUser.
   */
  verify(verification: SecondFactorVerification): Promise<TokenPair>;
}
