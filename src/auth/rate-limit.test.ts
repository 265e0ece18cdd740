import { loadConfig } from "../config";
import { addressBucket, loginLimitPolicy } from "./rate-limit";

describe("addressBucket", () => {
  it("keeps IPv4, unwraps IPv4-mapped IPv6, and groups IPv6 by /64", () => {
    expect(addressBucket("203.0.113.9")).toBe("203.0.113.9");
    expect(addressBucket("::ffff:203.0.113.9")).toBe("203.0.113.9");
    expect(addressBucket("2001:db8:1:2:aaaa:bbbb:cccc:dddd")).toBe("2001:db8:1:2::/64");
    expect(addressBucket("2001:0db8:0001:0002::1")).toBe("2001:db8:1:2::/64");
    expect(addressBucket("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressBucket("::1")).toBe("0:0:0:0::/64");
    expect(addressBucket("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(addressBucket("not an address")).toBe("not an address");
  });
});

describe("loginLimitPolicy and TRUST_PROXY", () => {
  it("gives an address ten times the username budget, over 15 minutes", () => {
    expect(loginLimitPolicy(5)).toEqual({ maxFailures: 5, addressMaxFailures: 50, windowMs: 900_000 });
  });

  it("reads TRUST_PROXY as a number of proxy hops", () => {
    const hops = (value?: string) => loadConfig({ SECRET_KEY: "x".repeat(32), TRUST_PROXY: value }).trustProxy;
    expect([hops(undefined), hops("false"), hops("true"), hops("2"), hops("0")]).toEqual([0, 0, 1, 2, 0]);
    expect(() => hops("maybe")).toThrow("Invalid configuration: TRUST_PROXY must be true, false or a number of proxy hops");
  });
});
