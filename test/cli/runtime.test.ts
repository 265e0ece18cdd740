/**
 * The CLI's runtime opens only what a command needs: the password service of `hash` and `users add`
 * computes nothing before its one hash.
 */
import { PassThrough } from "node:stream";
import { CliRuntime } from "../../src/cli/runtime";
import { cliEnv } from "./run-cli";

describe("CliRuntime", () => {
  const io = { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough() };

  it("starts the password service without the dummy hash, and makes it only if a verification needs it", async () => {
    const runtime = new CliRuntime(io, () => cliEnv("sqlite::memory:"));
    try {
      const passwords = await runtime.passwords();
      // The server makes a dummy hash at start for unknown usernames; a command that only hashes never verifies.
      expect(passwords.completedTasks).toBe(0);
      await passwords.hash("correct horse battery");
      expect(passwords.completedTasks).toBe(1);
      // Should a command ever verify, the dummy hash is made then: one hash, one verification.
      await passwords.verifyDummy("correct horse battery");
      expect(passwords.completedTasks).toBe(3);
    } finally {
      await runtime.close();
    }
  });
});
