/**
 * Live call events for the "Live" page: the pipeline (or a transport) publishes each browser-protocol
 * event of a call with the call's account; pages of that account subscribe through server-sent events.
 * Events of calls without a known account are shown to nobody.
 *
 * @module
 */

/** One live event, named as in the browser protocol (connected, vad, stt_final, ..., call_end). */
export interface LiveEvent {
  accountId: string | null;
  callId: string;
  type: string;
  at: number;
  /** Event fields (text of stt_final or llm_token, latencies of turn_end, ...). */
  data?: Record<string, unknown>;
}

type Listener = (e: LiveEvent) => void;

/** Publish/subscribe hub with the last events of each live call. */
export class LiveHub {
  #listeners = new Set<Listener>();
  #recent = new Map<string, LiveEvent[]>();
  readonly #keep: number;

  constructor(opts: { keepPerCall?: number } = {}) {
    this.#keep = opts.keepPerCall ?? 50;
  }

  /** Publish an event; call_end forgets the call's history after delivering it. */
  publish(e: LiveEvent): void {
    const list = this.#recent.get(e.callId) ?? [];
    list.push(e);
    if (list.length > this.#keep) list.splice(0, list.length - this.#keep);
    this.#recent.set(e.callId, list);
    if (e.type === "call_end") this.#recent.delete(e.callId);
    for (const l of this.#listeners) {
      try {
        l(e);
      } catch { /* a broken subscriber must not stop the others */ }
    }
  }

  /** Subscribe; returns the unsubscribe function. */
  subscribe(fn: Listener): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Recent events of the account's live calls. */
  snapshot(accountId: string): LiveEvent[] {
    return [...this.#recent.values()].flat().filter((e) => e.accountId === accountId);
  }

  /** Number of subscribers (for tests and metrics). */
  get subscribers(): number {
    return this.#listeners.size;
  }
}
