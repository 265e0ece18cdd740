/** The shared test helpers: one clock, one JWT forger, one set of the contract's expectations. */
export * from "./auth";
export * from "./clock";
export * from "./expectations";
export * from "./jwt";
export * from "./raw-http";
export * from "./token-fixture";
