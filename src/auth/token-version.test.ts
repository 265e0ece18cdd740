import { isTokenCurrent } from "./token-version";

describe("isTokenCurrent", () => {
  const moved = Date.UTC(2030, 0, 1, 12, 0, 0, 400);
  const second = Math.floor(moved / 1000);

  it("accepts every token while the version was never moved", () => {
    expect(isTokenCurrent({ ver: 0, iat: 1 }, 0)).toBe(true);
    expect(isTokenCurrent({ iat: 1 }, 0)).toBe(true);
  });

  it("compares our tokens' version exactly, whatever second they share with the move", () => {
    expect(isTokenCurrent({ ver: moved, iat: second }, moved)).toBe(true);
    expect(isTokenCurrent({ ver: moved - 1, iat: second }, moved)).toBe(false);
    expect(isTokenCurrent({ ver: 0, iat: second + 60 }, moved)).toBe(false);
  });

  it("accepts a token minted elsewhere (no ver) only from the second after the move", () => {
    expect(isTokenCurrent({ iat: second - 1 }, moved)).toBe(false);
    expect(isTokenCurrent({ iat: second }, moved)).toBe(false);
    expect(isTokenCurrent({ iat: second + 1 }, moved)).toBe(true);
  });
});
