/** Bench child: the argon2 package alone, verifying one hash at a fixed concurrency, in one process. */
import { setPriority } from "node:os";
import { join } from "node:path";
import * as argon2 from "argon2";
import type * as HashWorker from "../../src/passwords/hash-worker";

// The server hashes at a lower CPU priority (hash-worker.ts); the raw figure is taken at the same
// one, so that on a shared machine the comparison is of work, not of priority. On Linux this sets
// the main thread's, which libuv's thread pool (started by the first argon2 call) takes on.
const { HASH_THREAD_NICE } = require(join(__dirname, "..", "..", "..", "dist", "passwords", "hash-worker.js")) as typeof HashWorker;
if (process.platform === "linux") setPriority(0, HASH_THREAD_NICE);

/** What the runner passes as the one argument (JSON). */
export interface RawArgon2Options {
  readonly concurrency: number;
  readonly seconds: number;
  readonly memoryCost: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

/** The one message this child sends back. */
export interface RawArgon2Result {
  readonly count: number;
  readonly seconds: number;
  /** Milliseconds per verification, as each caller saw it. */
  readonly latencies: number[];
  /** CPU seconds this process spent meanwhile (every thread). */
  readonly cpuSeconds: number;
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2]!) as RawArgon2Options;
  const password = "correct horse battery staple";
  const hash = await argon2.hash(password, {
    type: argon2.argon2id,
    memoryCost: options.memoryCost,
    timeCost: options.timeCost,
    parallelism: options.parallelism,
  });
  if (!(await argon2.verify(hash, password))) throw new Error("the hash does not verify");
  const latencies: number[] = [];
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  // `concurrency` callers, each verifying again as soon as its last verification ends: the same
  // shape as the same number of HTTP connections logging in.
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        if (!(await argon2.verify(hash, password))) throw new Error("verification failed");
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const cpu = process.cpuUsage(cpuBefore);
  const result: RawArgon2Result = {
    count: latencies.length,
    seconds: (performance.now() - started) / 1000,
    latencies,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
  process.send!(result);
}

main().catch((error: unknown) => {
  process.send?.({ error: String(error) });
  process.exit(1);
});
