/**
 * A fair, abortable slot queue for an engine that serves a limited number of requests at a time
 * (whisper-server serves exactly one; an STT pool of N servers gives N slots). Waiting requests are grouped by key (the call id) and served
 * round-robin across keys, so a call with many queued utterances cannot starve the others: with calls
 * A (3 waiting), B (2) and C (1) the order is A B C A B A.
 *
 * A waiter whose signal aborts is removed from the queue at once (the engine never sees it); a holder
 * releases its slot with {@linkcode Lease.release} (idempotent) when its request is done or aborted.
 *
 * @module
 */

/** A granted slot. */
export interface Lease {
  /** How long the request waited for the slot, in milliseconds (0 when a slot was free). */
  readonly waitMs: number;
  /** True when the request had to wait behind others. */
  readonly waited: boolean;
  /** Give the slot back; later calls do nothing. */
  release(): void;
}

/** What happened in the queue (for metrics and tests). */
export type QueueEvent =
  | { type: "enqueued"; key: string; waiting: number }
  | { type: "start"; key: string; waitMs: number }
  | { type: "dropped"; key: string; reason: "aborted" }
  | { type: "done"; key: string };

/** The queue is full: the request is refused (the call should apologise or retry later). */
export class QueueFullError extends Error {
  constructor(readonly waiting: number) {
    super(`Cannot queue request: ${waiting} requests are already waiting`);
    this.name = "QueueFullError";
  }
}

/** Options of {@linkcode FairQueue}. */
export interface FairQueueOptions {
  /** Requests served at once (default 1: whisper-server serves one at a time). */
  concurrency?: number;
  /** Most requests waiting at once; more are refused with {@linkcode QueueFullError} (default 64). */
  maxWaiting?: number;
  /** Clock in milliseconds (default `performance.now`). */
  now?: () => number;
  /** Called for every queue event; exceptions are ignored. */
  onEvent?: (e: QueueEvent) => void;
}

interface Waiter {
  key: string;
  since: number;
  grant: (lease: Lease) => void;
  cleanup: () => void;
}

/** Round-robin-by-key queue of slots. */
export class FairQueue {
  #concurrency: number;
  readonly #maxWaiting: number;
  readonly #now: () => number;
  readonly #onEvent: (e: QueueEvent) => void;
  /** Waiters per key, in arrival order. */
  readonly #byKey = new Map<string, Waiter[]>();
  /** Keys with waiters, in service order: the head is served next, then moves to the tail. */
  #ring: string[] = [];
  #active = 0;
  #waiting = 0;

  constructor(opts: FairQueueOptions = {}) {
    this.#concurrency = opts.concurrency ?? 1;
    this.#maxWaiting = opts.maxWaiting ?? 64;
    if (!Number.isInteger(this.#concurrency) || this.#concurrency < 1) {
      throw new RangeError(
        `Cannot create FairQueue: concurrency must be an integer >= 1, got ${this.#concurrency}`,
      );
    }
    if (!Number.isInteger(this.#maxWaiting) || this.#maxWaiting < 0) {
      throw new RangeError(
        `Cannot create FairQueue: maxWaiting must be an integer >= 0, got ${this.#maxWaiting}`,
      );
    }
    this.#now = opts.now ?? (() => performance.now());
    const onEvent = opts.onEvent;
    this.#onEvent = (e) => {
      try {
        onEvent?.(e);
      } catch {
        // An observer must not break the queue.
      }
    };
  }

  /** Requests holding a slot. */
  get active(): number {
    return this.#active;
  }

  /** Requests waiting for a slot. */
  get waiting(): number {
    return this.#waiting;
  }

  /** Slots served at once. */
  get concurrency(): number {
    return this.#concurrency;
  }

  /**
   * Change the slots served at once (an STT pool member went down or came back): more slots serve the
   * waiting requests at once; fewer let the requests holding a slot finish and grant no new one until
   * fewer than `n` are active.
   */
  setConcurrency(n: number): void {
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`Cannot set FairQueue concurrency: must be an integer >= 1, got ${n}`);
    }
    if (n === this.#concurrency) return;
    this.#concurrency = n;
    this.#dispatch();
  }

  /**
   * Wait for a slot.
   *
   * @param key Fairness group (the call id); requests of one key are served in arrival order.
   * @param signal Aborting removes the request from the queue.
   * @returns The lease, or `null` when `signal` aborted before a slot was granted.
   * @throws {QueueFullError} when `maxWaiting` requests are already waiting.
   */
  acquire(key: string, signal: AbortSignal): Promise<Lease | null> {
    if (signal.aborted) return Promise.resolve(null);
    const since = this.#now();
    if (this.#active < this.#concurrency && this.#waiting === 0) {
      this.#active++;
      this.#onEvent({ type: "start", key, waitMs: 0 });
      return Promise.resolve(this.#lease(key, 0, false));
    }
    if (this.#waiting >= this.#maxWaiting) return Promise.reject(new QueueFullError(this.#waiting));
    return new Promise<Lease | null>((resolve) => {
      const onAbort = () => {
        this.#remove(waiter);
        this.#onEvent({ type: "dropped", key, reason: "aborted" });
        resolve(null);
      };
      const waiter: Waiter = {
        key,
        since,
        grant: resolve,
        cleanup: () => signal.removeEventListener("abort", onAbort),
      };
      signal.addEventListener("abort", onAbort, { once: true });
      let list = this.#byKey.get(key);
      if (!list) {
        list = [];
        this.#byKey.set(key, list);
        this.#ring.push(key);
      }
      list.push(waiter);
      this.#waiting++;
      this.#onEvent({ type: "enqueued", key, waiting: this.#waiting });
    });
  }

  #lease(key: string, waitMs: number, waited: boolean): Lease {
    let released = false;
    return {
      waitMs,
      waited,
      release: () => {
        if (released) return;
        released = true;
        this.#active--;
        this.#onEvent({ type: "done", key });
        this.#dispatch();
      },
    };
  }

  #remove(w: Waiter): void {
    const list = this.#byKey.get(w.key);
    const i = list?.indexOf(w) ?? -1;
    if (!list || i < 0) return;
    list.splice(i, 1);
    this.#waiting--;
    if (list.length === 0) {
      this.#byKey.delete(w.key);
      this.#ring = this.#ring.filter((k) => k !== w.key);
    }
  }

  #dispatch(): void {
    while (this.#active < this.#concurrency && this.#ring.length > 0) {
      const key = this.#ring.shift() as string;
      const list = this.#byKey.get(key) as Waiter[];
      const w = list.shift() as Waiter;
      this.#waiting--;
      if (list.length > 0) this.#ring.push(key);
      else this.#byKey.delete(key);
      w.cleanup();
      this.#active++;
      const waitMs = Math.max(0, this.#now() - w.since);
      this.#onEvent({ type: "start", key, waitMs });
      w.grant(this.#lease(key, waitMs, true));
    }
  }
}
