/** Alternating rounds: every target once per round, in turn, so drift on a shared machine hits all alike. */
import { median, type LoadResult } from "./load";

/** A target's figures: the median of its rounds, and every round for the JSON report. */
export interface Measured {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuUsPerRequest: number;
  readonly rounds: readonly LoadResult[];
}

/**
 * Runs `warmup` once per target, then `rounds` rounds of `measure` over the targets in order.
 * @throws when any measured load saw a failed request: the figure would be meaningless.
 */
export async function alternate<K extends string>(
  targets: readonly K[],
  rounds: number,
  measure: (target: K) => Promise<LoadResult>,
  warmup?: (target: K) => Promise<unknown>,
  progress: (line: string) => void = () => undefined,
  /** Called after every load, to let the server finish what the load left queued. */
  settle: () => Promise<void> = async () => undefined,
): Promise<Record<K, Measured>> {
  if (warmup) {
    for (const target of targets) {
      progress(`warm-up ${target}`);
      await warmup(target);
      await settle();
    }
  }
  const results = Object.fromEntries(targets.map((t) => [t, [] as LoadResult[]])) as Record<K, LoadResult[]>;
  for (let round = 1; round <= rounds; round++) {
    for (const target of targets) {
      const result = await measure(target);
      await settle();
      if (result.failures > 0) throw new Error(`${target}: ${result.failures} failed requests in round ${round}`);
      progress(`round ${round}/${rounds} ${target}: ${result.requestsPerSecond.toFixed(0)} req/s, p99 ${result.p99Ms.toFixed(1)} ms`);
      results[target].push(result);
    }
  }
  return Object.fromEntries(
    targets.map((t) => {
      const r = results[t];
      const measured: Measured = {
        requestsPerSecond: median(r.map((x) => x.requestsPerSecond)),
        p50Ms: median(r.map((x) => x.p50Ms)),
        p99Ms: median(r.map((x) => x.p99Ms)),
        cpuUsPerRequest: median(r.map((x) => x.cpuUsPerRequest)),
        rounds: r,
      };
      return [t, measured];
    }),
  ) as Record<K, Measured>;
}

/**
 * The median over rounds of `pick(a) / pick(b)`, each pair taken from the same round, so a slow
 * spell on the machine cancels out instead of landing on one side.
 */
export function pairedRatio(a: Measured, b: Measured, pick: (r: LoadResult) => number): number {
  const n = Math.min(a.rounds.length, b.rounds.length);
  return median(Array.from({ length: n }, (_, i) => pick(a.rounds[i]!) / pick(b.rounds[i]!)));
}
