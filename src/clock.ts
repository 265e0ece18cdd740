/** Time as a dependency: production uses the system clock, tests inject a fixed or movable one. */

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Whole seconds since the Unix epoch, as JWT claims count time. */
export function epochSeconds(clock: Clock): number {
  return Math.floor(clock.now() / 1000);
}
