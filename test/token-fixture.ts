export * from "./support/token-fixture";
