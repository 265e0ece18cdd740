export * from "../support";
