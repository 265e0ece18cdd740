/** The soak's judgement (bench/soak/verdicts.ts): which answers the faults excuse, which 5xx is allowed, when a refresh chain is broken. */
import { type Chain, type Sent } from "../../bench/soak/load";
import { chainVerdict, isAllowed5xx, verdictOf, type Timeline } from "../../bench/soak/verdicts";

// The cut from 10 s to 20 s, the kill at 25 s, the faults over at 31 s (times in ms).
const t: Timeline = { cutStart: 10_000, cutEnd: 20_000, killAt: 25_000, faultsEnd: 31_000 };
const at = (sentAt: number, endedAt = sentAt + 5) => ({ sentAt, endedAt });
const tokenOutage = { status: 503, body: { error: "temporarily_unavailable", error_description: "Service unavailable" } };
const graphqlOutage = {
  status: 200,
  body: { data: null, errors: [{ message: "Service unavailable", extensions: { code: "INTERNAL_SERVER_ERROR" } }] },
};

describe("soak verdicts", () => {
  it("allows /token's 503 only while the database is cut (and its grace), and no other 5xx", () => {
    const during: Sent = { route: "token-refresh", ...tokenOutage, ...at(12_000) };
    const inGrace: Sent = { route: "token-password", ...tokenOutage, ...at(23_000) };
    const later: Sent = { route: "token-password", ...tokenOutage, ...at(40_000) };
    const busy: Sent = {
      route: "login",
      status: 503,
      retryAfter: "2",
      body: { errors: [{ message: "Server busy; retry in 2 seconds", extensions: { code: "SERVICE_UNAVAILABLE", retryAfter: 2 } }] },
      ...at(12_000),
    };
    expect([during, inGrace, later, busy].map((s) => isAllowed5xx(s, t))).toEqual([true, true, false, false]);
    expect([during, inGrace, later, busy].map((s) => verdictOf(s, t))).toEqual(["outage", "outage", "unexpected", "unexpected"]);
  });

  it("excuses GraphQL's outage answer during the cut only, and never an internal error", () => {
    const me = (sentAt: number, answer: object): Sent => ({ route: "me", ...(answer as any), ...at(sentAt) });
    expect(verdictOf(me(15_000, graphqlOutage), t)).toBe("outage");
    expect(verdictOf(me(5_000, graphqlOutage), t)).toBe("unexpected");
    const internal = {
      status: 200,
      body: { errors: [{ message: "Internal server error", extensions: { code: "INTERNAL_SERVER_ERROR" } }] },
    };
    expect(verdictOf(me(15_000, internal), t)).toBe("unexpected");
    expect(verdictOf(me(5_000, { status: 200, body: { data: { me: { id: "1", username: "u" } } } }), t)).toBe("ok");
  });

  it("excuses a reset connection at the SIGKILL only, and a timeout never", () => {
    expect(verdictOf({ route: "me", failure: "ECONNRESET", ...at(24_990, 25_001) }, t)).toBe("killed");
    expect(verdictOf({ route: "me", failure: "ECONNRESET", ...at(5_000) }, t)).toBe("unexpected");
    expect(verdictOf({ route: "me", failure: "timeout", ...at(10_001, 25_500) }, t)).toBe("unexpected");
  });

  it("counts a refused refresh chain as broken unless the server's reuse detection ended it after the reuse interval", () => {
    const refused = (chain: Partial<Chain>): Chain => ({
      door: "graphql",
      sid: "s1",
      refreshes: 3,
      end: "refused",
      ambiguous: false,
      ...chain,
    });
    const reuse = new Set(["s1"]);
    // Presented once and refused: nothing excuses it, whatever the server recorded.
    expect(chainVerdict(refused({ presentedAt: 1_000, refusedAt: 20_000 }), 10_000, reuse)).toBe("broken");
    // Retried after an unclear answer, within the interval: the same child was owed.
    expect(chainVerdict(refused({ ambiguous: true, presentedAt: 1_000, refusedAt: 9_000 }), 10_000, reuse)).toBe("broken");
    // Retried after the interval, and the server recorded refresh.reuse_detected for the session.
    expect(chainVerdict(refused({ ambiguous: true, presentedAt: 1_000, refusedAt: 12_000 }), 10_000, reuse)).toBe(
      "ended by reuse detection",
    );
    // The same without the server's record of reuse.
    expect(chainVerdict(refused({ ambiguous: true, presentedAt: 1_000, refusedAt: 12_000 }), 10_000, new Set())).toBe("broken");
    expect(chainVerdict({ ...refused({}), end: "completed" }, 10_000, reuse)).toBe("completed");
  });
});
