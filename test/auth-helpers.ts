export * from "./support/auth";
