import { digestRecoveryCode, generateRecoveryCodes, normaliseRecoveryCode } from "./recovery-codes";

describe("recovery codes", () => {
  it("makes 10 distinct codes xxxxx-xxxxx", () => {
    const codes = generateRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[0-9a-z]{5}-[0-9a-z]{5}$/);
  });

  it("compares without regard to case, the dash or spaces, and refuses other shapes", () => {
    expect(normaliseRecoveryCode("AB3DE-12345")).toBe("ab3de12345");
    expect(normaliseRecoveryCode("ab3de12345")).toBe("ab3de12345");
    expect(normaliseRecoveryCode(" ab3de 12345 ")).toBe("ab3de12345");
    for (const bad of ["ab3de-1234", "ab3de-123456", "ab3de-1234!", "", "ab3de_12345"]) expect(normaliseRecoveryCode(bad)).toBeUndefined();
    expect(digestRecoveryCode("ab3de12345")).toMatch(/^[0-9a-f]{64}$/);
  });
});
