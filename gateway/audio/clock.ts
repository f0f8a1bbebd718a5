/**
 * Time for the pacer: the system clock, and a fake one that tests move by hand.
 *
 * @module
 */

/** Milliseconds and timers; injectable so that pacing tests are exact. */
export interface Clock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Run `fn` once after `ms` milliseconds; returns a handle for {@linkcode Clock.clearTimeout}. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancel a timer; unknown handles are ignored. */
  clearTimeout(id: unknown): void;
}

/** The real clock: `performance.now()` and the runtime's timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
};

/**
 * A clock that only moves when told: {@linkcode FakeClock.advance} fires due timers in time order, each
 * with `now()` at its due time; {@linkcode FakeClock.stall} moves time without firing anything (a
 * blocked event loop), so the next `advance` fires the overdue timers late.
 */
export class FakeClock implements Clock {
  #now: number;
  #nextId = 1;
  #timers = new Map<number, { at: number; fn: () => void; seq: number }>();

  /** @param start the initial `now()` in ms */
  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): number {
    const id = this.#nextId++;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn, seq: id });
    return id;
  }

  clearTimeout(id: unknown): void {
    if (typeof id === "number") this.#timers.delete(id);
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Move time forward by `ms`, firing every timer that falls due on the way (late ones first, at once). */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void; seq: number }] | undefined;
      for (const entry of this.#timers) {
        const [, t] = entry;
        if (t.at <= target && (!next || t.at < next[1].at || (t.at === next[1].at && t.seq < next[1].seq))) {
          next = entry;
        }
      }
      if (!next) break;
      this.#timers.delete(next[0]);
      this.#now = Math.max(this.#now, next[1].at);
      next[1].fn();
    }
    this.#now = target;
  }

  /** Move time forward by `ms` without firing timers. */
  stall(ms: number): void {
    this.#now += ms;
  }
}
