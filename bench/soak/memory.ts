/**
 * Each worker slot's RSS sampled all through the mixed load, and a window's figures read from it.
 *
 * One reading at one instant is no measure of a worker's memory: a login holds its argon2 block
 * (ARGON2_MEMORY_KIB, 64 MiB by default, one per hash in flight) for the hash's duration, and V8
 * grows and shrinks its committed heap between collections. A 6-minute soak's slot 0, sampled
 * every second, went 136 → 201 → 137 MiB within a minute and held a 64 MiB anonymous mapping
 * exactly at the high readings. So a point of the run (its middle, its end) is read as a window
 * of samples: its lowest, which transient memory cannot lift and a leak does, and its highest.
 */
import { rssMiB } from "./server";

export const SAMPLE_EVERY_MS = 250;
/** The longest window a point of the run is read over. */
export const WINDOW_MS = 20_000;

/** A slot's RSS over one window. */
export interface WindowMemory {
  readonly lowMiB: number;
  readonly highMiB: number;
  readonly samples: number;
}

interface Sample {
  readonly at: number;
  readonly mib: number;
}

/** Samples every slot's current process (`pids()`, one per slot) until stopped. */
export class SlotSampler {
  private readonly samples: Sample[][] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly pids: () => readonly number[]) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_EVERY_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** `slot`'s lowest and highest RSS sampled in [from, to] (performance.now() times). */
  window(slot: number, from: number, to: number): WindowMemory {
    const inside = (this.samples[slot] ?? []).filter((s) => s.at >= from && s.at <= to).map((s) => s.mib);
    if (inside.length === 0) return { lowMiB: NaN, highMiB: NaN, samples: 0 };
    return { lowMiB: Math.min(...inside), highMiB: Math.max(...inside), samples: inside.length };
  }

  private sample(): void {
    const at = performance.now();
    this.pids().forEach((pid, slot) => {
      const mib = rssMiB(pid);
      if (!Number.isNaN(mib)) (this.samples[slot] ??= []).push({ at, mib });
    });
  }
}
