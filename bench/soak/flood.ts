/** The login flood: many correct logins at once, the workers' memory sampled meanwhile, `me` timed before and during. */
import { setTimeout as sleep } from "node:timers/promises";
import { sampleMemory, settle } from "../lib/processes";
import { clientAgent, type Answer } from "./http";
import { askMe, loginUser, type PoolUser } from "./load";
import { rssMiB } from "./server";

export interface FloodPlan {
  readonly port: number;
  readonly workers: readonly number[];
  readonly logins: number;
  readonly users: readonly PoolUser[];
  readonly tokens: readonly string[];
  /** The client's bound on one login: past it the socket counts as held. */
  readonly timeoutMs: number;
  /** How long `me` is timed at idle before the flood. */
  readonly baselineMs: number;
}

export interface FloodRun {
  /** Each worker's RSS (MiB) once it idled before the flood, and its highest sample during it (every 100 ms). */
  readonly idleMiB: number[];
  readonly peakMiB: number[];
  readonly logins: Answer[];
  readonly meBefore: Answer[];
  readonly meDuring: Answer[];
}

/** `clients` keep-alive clients asking `me` until `stop()` resolves true; resolves with every answer. */
async function timeMe(port: number, tokens: readonly string[], clients: number, stopped: () => boolean): Promise<Answer[]> {
  const answers: Answer[] = [];
  await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      const target = { port, agent: clientAgent(), timeoutMs: 15_000 };
      while (!stopped()) {
        answers.push(await askMe(target, tokens[i % tokens.length]!));
        await sleep(20);
      }
      target.agent.destroy();
    }),
  );
  return answers;
}

/**
 * Waits for the workers to idle, reads their RSS, times `me` alone, then sends every login at
 * once, each on a connection of its own (so the primary spreads them over the workers), and
 * times `me` until the last login is answered.
 */
export async function runFlood(plan: FloodPlan): Promise<FloodRun> {
  await settle(plan.workers, 0.1, 30_000);
  const idleMiB = plan.workers.map(rssMiB);
  const baselineUntil = performance.now() + plan.baselineMs;
  const meBefore = await timeMe(plan.port, plan.tokens, 2, () => performance.now() > baselineUntil);

  const memory = sampleMemory(plan.workers, 100);
  let flooding = true;
  const meDuring = timeMe(plan.port, plan.tokens, 2, () => !flooding);
  const target = { port: plan.port, timeoutMs: plan.timeoutMs };
  const logins = await Promise.all(Array.from({ length: plan.logins }, (_, i) => loginUser(target, plan.users[i % plan.users.length]!)));
  flooding = false;
  const peakMiB = memory.stop();
  return { idleMiB, peakMiB, logins, meBefore, meDuring: await meDuring };
}
