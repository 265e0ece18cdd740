/** Jest: TypeScript through ts-jest; unit tests beside the code, integration tests under test/. */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/src", "<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.ts$": ["ts-jest", { tsconfig: { rootDir: "." } }],
  },
  setupFiles: ["reflect-metadata"],
  globalSetup: "<rootDir>/test/global-setup.ts",
  testTimeout: 30000,
};
