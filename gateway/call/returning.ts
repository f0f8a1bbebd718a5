/**
 * Calls on their way back to TOM after a transfer nobody answered, for every transport that can bring a
 * caller back. Before a transfer, the transport registers a fresh return id here and hands it to its peer;
 * when the person does not answer, the peer connects the caller to TOM again with that id, and the
 * transport takes the entry: the new call knows it continues `callId` and TOM offers a callback at once.
 * - Asterisk (asterisk/ami_transfer.ts): the id is set on the caller's channel (`TOM_RETURN`, AMI
 *   `Setvar`); the shipped dialplan's failed `Dial()` connects the caller to TOM's AudioSocket with it.
 * - Twilio (twilio/dial_result.ts): the id is in the `<Dial action>` URL; the action's TwiML connects the
 *   caller to a new media stream that carries it as `<Parameter name="tom_return">`.
 *
 * Bounded (oldest dropped first) and expiring: an id is good for one connection within `ttlMs`. Entries
 * carry TOM's ids only, never a phone number.
 *
 * @module
 */

/** What a returning call continues. */
export interface ReturnEntry {
  /** The call that was transferred. */
  callId: string;
  /** Its account (the returning call belongs to the same practice). */
  accountId: string;
}

/** Options of {@linkcode ReturningCalls}. */
export interface ReturningOptions {
  /** How many returns may wait at once (default 256). */
  max?: number;
  /** How long a return id is good (default 5 minutes: longer than any ring time of a transfer). */
  ttlMs?: number;
  now?: () => number;
}

/** The registry of return ids (one per appliance). */
export class ReturningCalls {
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, ReturnEntry & { until: number }>();

  constructor(opts: ReturningOptions = {}) {
    this.#max = Math.max(1, opts.max ?? 256);
    this.#ttlMs = Math.max(1, opts.ttlMs ?? 5 * 60_000);
    this.#now = opts.now ?? (() => performance.now());
  }

  /** Returns waiting now (expired ones not counted). */
  get size(): number {
    this.#prune();
    return this.#entries.size;
  }

  /** Register a return of `entry`; the id to set on the caller's channel. */
  register(entry: ReturnEntry): string {
    this.#prune();
    while (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
    const id = crypto.randomUUID();
    this.#entries.set(id, {
      callId: entry.callId,
      accountId: entry.accountId,
      until: this.#now() + this.#ttlMs,
    });
    return id;
  }

  /** Forget a return that will not happen (the id never reached the channel). */
  drop(id: string): void {
    this.#entries.delete(id);
  }

  /** The entry of `id`, consumed; undefined when it is unknown or expired. */
  take(id: string): ReturnEntry | undefined {
    const e = this.#entries.get(id.toLowerCase());
    if (!e) return undefined;
    this.#entries.delete(id.toLowerCase());
    if (e.until <= this.#now()) return undefined;
    return { callId: e.callId, accountId: e.accountId };
  }

  #prune(): void {
    const now = this.#now();
    for (const [id, e] of this.#entries) if (e.until <= now) this.#entries.delete(id);
  }
}
