/** The one test clock: it stands still until a test moves it, so expiry needs no sleeping and nothing drifts. */
import { type Clock } from "../../src/clock";

export const DAY_MS = 24 * 60 * 60 * 1000;

/** A clock only the test moves: it never follows real time. */
export interface MovableClock extends Clock {
  /** Moves time forward by `ms` milliseconds. */
  advance(ms: number): void;
  /** Puts the clock at `ms` milliseconds since the epoch. */
  set(ms: number): void;
}

/** Starts at `startMs` (by default the real time at creation) and stays there until moved. */
export function movableClock(startMs = Date.now()): MovableClock {
  let now = startMs;
  return {
    now: () => now,
    advance: (ms) => void (now += ms),
    set: (ms) => void (now = ms),
  };
}
