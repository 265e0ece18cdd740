/** The audit event types of CONTRACT section 12, and what a use case hands over to record one. */

/** Every event type, exactly as the contract lists them. */
export const AUTH_EVENT_TYPES = [
  "login.succeeded",
  "login.failed",
  "login.rate_limited",
  "login.mfa_required",
  "mfa.succeeded",
  "mfa.failed",
  "mfa.enabled",
  "mfa.disabled",
  "refresh.reuse_detected",
  "logout",
  "session.revoked",
  "password.changed",
  "password.reset_requested",
  "password.reset",
  "email.verification_sent",
  "email.verified",
  "user.registered",
  "user.created",
  "user.updated",
  "user.disabled",
  "user.enabled",
  "user.deleted",
] as const;

export type AuthEventType = (typeof AUTH_EVENT_TYPES)[number];

/**
 * What an event holds: the type and ids, and where the request came from. By construction
 * nothing else (no username, password, hash, token or code) can be recorded.
 */
export interface NewAuthEvent {
  readonly type: AuthEventType;
  /** The account concerned; absent for a failed login of an unknown username. */
  readonly userId?: string | null;
  readonly sessionId?: string | null;
  readonly clientAddress?: string | null;
  readonly userAgent?: string | null;
}

/** Where a request came from, as use cases pass it on to the events they record. */
export interface EventClient {
  readonly clientAddress?: string | null;
  readonly userAgent?: string | null;
}

/** A stored event. */
export interface StoredAuthEvent {
  readonly id: string;
  readonly type: string;
  /** Epoch milliseconds. */
  readonly at: number;
  readonly userId: string | null;
  readonly sessionId: string | null;
  readonly clientAddress: string | null;
  readonly userAgent: string | null;
}

export function isAuthEventType(value: string): value is AuthEventType {
  return (AUTH_EVENT_TYPES as readonly string[]).includes(value);
}
