/** The event types are exactly CONTRACT section 12's list, no more, no fewer. */
import { AUTH_EVENT_TYPES, isAuthEventType } from "./auth-event";

const CONTRACT = `login.succeeded, login.failed, login.rate_limited, login.mfa_required, mfa.succeeded, mfa.failed,
  mfa.enabled, mfa.disabled, refresh.reuse_detected, logout, session.revoked, password.changed,
  password.reset_requested, password.reset, email.verification_sent, email.verified, user.registered,
  user.created, user.updated, user.disabled, user.enabled, user.deleted`;

describe("auth event types", () => {
  it("are the contract's 22 types", () => {
    const listed = CONTRACT.split(",").map((t) => t.trim());
    expect(listed).toHaveLength(22);
    expect([...AUTH_EVENT_TYPES]).toEqual(listed);
    expect(listed.every(isAuthEventType)).toBe(true);
    for (const other of ["login", "LOGIN.FAILED", "login.failed ", "user.locked", ""]) expect(isAuthEventType(other)).toBe(false);
  });
});
