/** Equal timing: the floor every failed verification is padded to, the costliest stored-hash kind seen lately. */
import { type Clock } from "../clock";

/** A kind of stored hash not verified for this long no longer holds the floor up. */
export const FLOOR_MEMORY_MS = 24 * 60 * 60 * 1000;
/** Kinds remembered at most: they come from stored hashes, which no anonymous client chooses. */
const MAX_KINDS = 64;
/** Weight of each new sample in a kind's running mean and deviation. */
const SAMPLE_WEIGHT = 0.1;
/**
 * The floor sits this many mean deviations above the costliest kind's mean, so that kind's own
 * verifications, which vary, are mostly padded too and its spread looks like everyone else's.
 */
const DEVIATIONS = 2;

interface KindCost {
  meanMs: number;
  deviationMs: number;
  seenAt: number;
}

/**
 * The cost of each kind of stored hash (family and parameters, never salt or digest), learnt from
 * the verifications themselves. The floor is the highest of those seen within FLOOR_MEMORY_MS.
 */
export class VerificationFloor {
  private readonly kinds = new Map<string, KindCost>();

  constructor(private readonly clock: Clock) {}

  /** Records how long one verification of `kind` computed. */
  record(kind: string, computeMs: number): void {
    const now = this.clock.now();
    const known = this.kinds.get(kind);
    if (!known) {
      if (this.kinds.size >= MAX_KINDS) this.forgetOldest();
      this.kinds.set(kind, { meanMs: computeMs, deviationMs: 0, seenAt: now });
      return;
    }
    const difference = computeMs - known.meanMs;
    known.meanMs += SAMPLE_WEIGHT * difference;
    known.deviationMs += SAMPLE_WEIGHT * (Math.abs(difference) - known.deviationMs);
    known.seenAt = now;
  }

  /** Milliseconds a failed verification should take at least: 0 until anything was recorded. */
  floorMs(): number {
    const now = this.clock.now();
    let floor = 0;
    for (const [kind, cost] of this.kinds) {
      if (now - cost.seenAt > FLOOR_MEMORY_MS) {
        this.kinds.delete(kind);
        continue;
      }
      floor = Math.max(floor, cost.meanMs + DEVIATIONS * cost.deviationMs);
    }
    return floor;
  }

  private forgetOldest(): void {
    let oldest: string | undefined;
    let oldestAt = Infinity;
    for (const [kind, cost] of this.kinds) {
      if (cost.seenAt < oldestAt) [oldest, oldestAt] = [kind, cost.seenAt];
    }
    if (oldest !== undefined) this.kinds.delete(oldest);
  }
}

/**
 * The kind of a stored hash: its family and cost parameters, without salt or digest. bcrypt keeps
 * its cost inside one `$2b$12$` field; every other format ends with `$salt$digest`.
 */
export function hashKind(family: string, stored: string): string {
  const bcryptCost = /\$2[abxy]?\$(\d{2})\$/.exec(stored)?.[1];
  if (bcryptCost !== undefined) return `${family}:${bcryptCost}`;
  const fields = stored.split("$");
  return `${family}:${fields
    .slice(0, Math.max(1, fields.length - 2))
    .join("$")
    .slice(0, 120)}`;
}
