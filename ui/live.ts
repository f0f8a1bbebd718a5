/**
 * Live call events for the "Live" page: the live feed (ui/live_feed.ts, wrapped around every call's
 * output by the composition root) publishes each event of a call with the call's account; pages of that
 * account subscribe through server-sent events (routes/api/live/events.ts).
 *
 * Memory is bounded: the hub keeps the last `keepPerCall` events of at most `maxCalls` calls (for pages
 * that open mid-call), and each subscriber has a queue of at most `queueLimit` events. A subscriber that
 * falls that far behind (a stalled browser) is disconnected; its EventSource reconnects and starts over
 * from a fresh snapshot. Events of calls without a known account are shown to nobody.
 *
 * @module
 */

/** One live event, named as in the browser protocol (connected, vad, stt_final, ..., call_end). */
export interface LiveEvent {
  accountId: string | null;
  callId: string;
  type: string;
  at: number;
  /** Event fields (text of stt_final when consent allows, latencies of turn_end, ...). */
  data?: Record<string, unknown>;
}

/** Why a subscription ended. */
export type LiveCloseReason = "closed" | "overflow";

/** One subscriber: the events of its account, in order, through a bounded queue. */
export class LiveSubscription {
  readonly accountId: string;
  #queue: LiveEvent[] = [];
  #waiter: ((e: LiveEvent | null) => void) | undefined;
  #closed: LiveCloseReason | undefined;
  readonly #limit: number;
  readonly #onClose: (s: LiveSubscription) => void;

  constructor(accountId: string, limit: number, onClose: (s: LiveSubscription) => void) {
    this.accountId = accountId;
    this.#limit = limit;
    this.#onClose = onClose;
  }

  /** Why it ended, or undefined while open. */
  get closed(): LiveCloseReason | undefined {
    return this.#closed;
  }

  /** Events waiting to be read. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Queue an event (the hub calls this); a full queue ends the subscription. */
  push(e: LiveEvent): void {
    if (this.#closed) return;
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w(e);
      return;
    }
    if (this.#queue.length >= this.#limit) return this.close("overflow");
    this.#queue.push(e);
  }

  /**
   * The next event; `"idle"` when none came within `idleMs` (time for a heartbeat); null once closed.
   * One reader at a time.
   */
  next(idleMs: number): Promise<LiveEvent | "idle" | null> {
    const e = this.#queue.shift();
    if (e) return Promise.resolve(e);
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        resolve("idle");
      }, idleMs);
      this.#waiter = (ev) => {
        clearTimeout(timer);
        resolve(ev);
      };
    });
  }

  /** End the subscription (idempotent); a waiting reader gets null. */
  close(reason: LiveCloseReason = "closed"): void {
    if (this.#closed) return;
    this.#closed = reason;
    this.#queue = [];
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.(null);
    this.#onClose(this);
  }
}

/** Options of {@linkcode LiveHub}. */
export interface LiveHubOptions {
  /** Events kept per live call for pages that open mid-call (default 50). */
  keepPerCall?: number;
  /** Live calls whose recent events are kept; the oldest is forgotten first (default 200). */
  maxCalls?: number;
  /** Events a subscriber may have unread before it is disconnected (default 500). */
  queueLimit?: number;
}

/** Publish/subscribe hub with the last events of each live call. */
export class LiveHub {
  #subs = new Set<LiveSubscription>();
  #recent = new Map<string, LiveEvent[]>();
  readonly #keep: number;
  readonly #maxCalls: number;
  readonly #queueLimit: number;

  constructor(opts: LiveHubOptions = {}) {
    this.#keep = opts.keepPerCall ?? 50;
    this.#maxCalls = opts.maxCalls ?? 200;
    this.#queueLimit = opts.queueLimit ?? 500;
  }

  /** Publish an event to its account's subscribers; call_end forgets the call's history. */
  publish(e: LiveEvent): void {
    if (e.accountId === null) return;
    if (e.type === "call_end") {
      this.#recent.delete(e.callId);
    } else {
      const list = this.#recent.get(e.callId);
      if (list) {
        list.push(e);
        if (list.length > this.#keep) list.splice(0, list.length - this.#keep);
      } else {
        this.#recent.set(e.callId, [e]);
        for (const oldest of this.#recent.keys()) {
          if (this.#recent.size <= this.#maxCalls) break;
          this.#recent.delete(oldest);
        }
      }
    }
    for (const s of this.#subs) if (s.accountId === e.accountId) s.push(e);
  }

  /** Subscribe to the account's events; read with `next()`, end with `close()`. */
  subscribe(accountId: string): LiveSubscription {
    const s = new LiveSubscription(accountId, this.#queueLimit, (x) => this.#subs.delete(x));
    this.#subs.add(s);
    return s;
  }

  /** Recent events of the account's live calls. */
  snapshot(accountId: string): LiveEvent[] {
    return [...this.#recent.values()].flat().filter((e) => e.accountId === accountId);
  }

  /** Number of subscribers (for tests and metrics). */
  get subscribers(): number {
    return this.#subs.size;
  }

  /** Number of calls whose recent events are kept (for tests and metrics). */
  get trackedCalls(): number {
    return this.#recent.size;
  }
}
