export * from "./support/jwt";
