/**
 * The members of an STT pool (several whisper-server processes, infra/engines/pool.ts) behind one
 * {@linkcode FairQueue}: the queue hands out as many slots as members are up, and a request holding a
 * slot takes a free member. A member that cannot be reached or breaks a request is marked down for a
 * while (500 ms, doubling to 10 s while it keeps failing; the supervisor restarts it meanwhile): the
 * queue shrinks to the members left, so the waiting requests go to them, and the request that hit it is
 * tried on another member. After the pause a member is tried again (the next request that takes it);
 * one answer marks it up again.
 *
 * No timers: the slot count is brought up to date whenever a request takes or gives back a member, which
 * always happens while requests wait.
 *
 * @module
 */
import type { FairQueue } from "./queue.ts";

/** Pause of a member after a failure: first `initialMs`, doubling to `maxMs`. */
export const POOL_BACKOFF = { initialMs: 500, maxMs: 10_000 } as const;

/** One member's state (for tests and metrics). */
export interface PoolMember {
  readonly url: string;
  /** Requests on it now. */
  busy: number;
  /** Down until this time (ms on the pool's clock); 0: up. */
  downUntil: number;
  /** Failures in a row. */
  failures: number;
}

/** Members of one STT pool, sharing a queue. */
export class SttPool {
  readonly members: PoolMember[];
  readonly #queue: FairQueue;
  readonly #now: () => number;

  /**
   * @param urls base URL of each member (at least one)
   * @param queue the queue every call shares; its slot count follows the members that are up
   * @param now clock in ms (default `performance.now`)
   */
  constructor(urls: readonly string[], queue: FairQueue, now: () => number = () => performance.now()) {
    if (urls.length === 0) throw new RangeError("Cannot create SttPool: it needs at least one member");
    this.members = urls.map((url) => ({ url, busy: 0, downUntil: 0, failures: 0 }));
    this.#queue = queue;
    this.#now = now;
    this.#sync();
  }

  /** Members up now. */
  get up(): number {
    const t = this.#now();
    return this.members.filter((m) => m.downUntil <= t).length;
  }

  /**
   * Take a member for a request that holds a queue slot: a free member that is up, else the least busy
   * member that is up (whisper-server queues it), else the down member back soonest (a try), never one
   * in `tried`.
   *
   * @returns its index, or `null` when every member was tried
   */
  take(tried: ReadonlySet<number> = new Set()): number | null {
    const t = this.#now();
    let best: number | null = null;
    const rank = (m: PoolMember) => (m.downUntil <= t ? 0 : 1e9 + m.downUntil - t) + m.busy;
    this.members.forEach((m, i) => {
      if (tried.has(i)) return;
      if (best === null || rank(m) < rank(this.members[best])) best = i;
    });
    if (best !== null) this.members[best].busy++;
    this.#sync();
    return best;
  }

  /**
   * Give a member back: `ok` true marks it up, false down (it could not be reached or broke the request),
   * undefined leaves it as it was (the request was aborted).
   */
  give(i: number, ok?: boolean): void {
    const m = this.members[i];
    m.busy = Math.max(0, m.busy - 1);
    if (ok === undefined) {
      // Nothing learnt about the member.
    } else if (ok) {
      m.failures = 0;
      m.downUntil = 0;
    } else {
      m.downUntil = this.#now() + Math.min(POOL_BACKOFF.maxMs, POOL_BACKOFF.initialMs * 2 ** m.failures);
      m.failures++;
    }
    this.#sync();
  }

  #sync(): void {
    this.#queue.setConcurrency(Math.max(1, this.up));
  }
}
