/**
 * Login throttling: attempts are counted per e-mail address and per client address (the real client behind
 * a trusted proxy, see client_ip.ts) in a sliding window; past the limit further attempts are refused
 * (HTTP 429 with Retry-After) until the window has room again, whether the password would be right or
 * not. An attempt is reserved before the (slow) password check, so concurrent attempts count at once: of
 * 19 wrong passwords sent together for one address only the first five are checked. A successful login
 * gives its reservation back and clears the e-mail's count.
 *
 * @module
 */

/** Defaults, with the reason for each number. */
export const THROTTLE_DEFAULTS = {
  /** Five wrong passwords for one address: enough for typos, far too few for guessing. */
  perAccount: 5,
  /** Twenty failures from one client address (a shared practice PC may serve several people). */
  perClient: 20,
  /** Counted over 15 minutes (OWASP's usual lockout window). */
  windowMs: 15 * 60_000,
} as const;

/** Options of {@linkcode LoginThrottle}. */
export interface ThrottleOptions {
  perAccount?: number;
  perClient?: number;
  windowMs?: number;
  now?: () => number;
}

/** A reserved attempt: give it back with {@linkcode LoginThrottle.succeed} when the password was right. */
export interface Attempt {
  readonly email: string;
  readonly keys: readonly string[];
  readonly at: number;
}

/** The outcome of {@linkcode LoginThrottle.reserve}. */
export type Reservation = { ok: true; attempt: Attempt } | { ok: false; retryAfterMs: number };

/** Sliding-window counters of login attempts, in memory. */
export class LoginThrottle {
  readonly #attempts = new Map<string, number[]>();
  readonly #perAccount: number;
  readonly #perClient: number;
  readonly #windowMs: number;
  readonly #now: () => number;

  constructor(opts: ThrottleOptions = {}) {
    this.#perAccount = opts.perAccount ?? THROTTLE_DEFAULTS.perAccount;
    this.#perClient = opts.perClient ?? THROTTLE_DEFAULTS.perClient;
    this.#windowMs = opts.windowMs ?? THROTTLE_DEFAULTS.windowMs;
    this.#now = opts.now ?? Date.now;
    for (const [k, v] of [["perAccount", this.#perAccount], ["perClient", this.#perClient]] as const) {
      if (!Number.isInteger(v) || v < 1 || v > 100) {
        throw new RangeError(`Cannot create throttle: ${k} must be 1 to 100, got ${v}`);
      }
    }
  }

  #recent(key: string): number[] {
    const cutoff = this.#now() - this.#windowMs;
    const list = (this.#attempts.get(key) ?? []).filter((t) => t > cutoff);
    if (list.length === 0) this.#attempts.delete(key);
    else this.#attempts.set(key, list);
    return list;
  }

  #limits(email: string, client: string): [string, number][] {
    return [[`a:${email.toLowerCase()}`, this.#perAccount], [`c:${client}`, this.#perClient]];
  }

  /** Milliseconds until another attempt is allowed for this e-mail and client; 0 when allowed now. */
  retryAfterMs(email: string, client: string): number {
    let wait = 0;
    for (const [key, limit] of this.#limits(email, client)) {
      const list = this.#recent(key);
      if (list.length >= limit) {
        wait = Math.max(wait, list[list.length - limit] + this.#windowMs - this.#now(), 1);
      }
    }
    return wait;
  }

  /**
   * Count an attempt before its password is checked, or refuse it. Synchronous, so two requests cannot
   * both take the last free attempt.
   */
  reserve(email: string, client: string): Reservation {
    const wait = this.retryAfterMs(email, client);
    if (wait > 0) return { ok: false, retryAfterMs: wait };
    const at = this.#now();
    const keys = this.#limits(email, client).map(([key]) => key);
    for (const key of keys) {
      const list = this.#recent(key);
      list.push(at);
      this.#attempts.set(key, list.slice(-100));
    }
    if (this.#attempts.size > 10_000) this.#attempts.delete(this.#attempts.keys().next().value as string);
    return { ok: true, attempt: { email: email.toLowerCase(), keys, at } };
  }

  /** The password was right: the attempt does not count, and the e-mail's failures are forgotten. */
  succeed(attempt: Attempt): void {
    for (const key of attempt.keys) {
      const list = this.#attempts.get(key);
      const i = list?.lastIndexOf(attempt.at) ?? -1;
      if (list && i >= 0) list.splice(i, 1);
    }
    this.#attempts.delete(`a:${attempt.email}`);
  }
}
