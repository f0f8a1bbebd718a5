/**
 * Login throttling: failed logins are counted per e-mail address and per client address in a sliding
 * window; past the limit further attempts are refused (HTTP 429 with Retry-After) until the window has
 * room again, whether the password would be right or not. A successful login clears the e-mail's count.
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

/** Sliding-window counters of failed logins, in memory. */
export class LoginThrottle {
  readonly #failures = new Map<string, number[]>();
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
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`Cannot create throttle: ${k} must be >= 1`);
    }
  }

  #recent(key: string): number[] {
    const cutoff = this.#now() - this.#windowMs;
    const list = (this.#failures.get(key) ?? []).filter((t) => t > cutoff);
    if (list.length === 0) this.#failures.delete(key);
    else this.#failures.set(key, list);
    return list;
  }

  /** Milliseconds until another attempt is allowed for this e-mail and client; 0 when allowed now. */
  retryAfterMs(email: string, client: string): number {
    let wait = 0;
    for (
      const [key, limit] of [[`a:${email.toLowerCase()}`, this.#perAccount], [
        `c:${client}`,
        this.#perClient,
      ]] as const
    ) {
      const list = this.#recent(key);
      if (list.length >= limit) {
        wait = Math.max(wait, list[list.length - limit] + this.#windowMs - this.#now());
      }
    }
    return Math.max(0, wait);
  }

  /** Count a failed attempt. */
  fail(email: string, client: string): void {
    const now = this.#now();
    for (const key of [`a:${email.toLowerCase()}`, `c:${client}`]) {
      const list = this.#recent(key);
      list.push(now);
      this.#failures.set(key, list.slice(-100));
    }
    if (this.#failures.size > 10_000) this.#failures.delete(this.#failures.keys().next().value as string);
  }

  /** Forget the e-mail's failures after a successful login. */
  succeed(email: string): void {
    this.#failures.delete(`a:${email.toLowerCase()}`);
  }
}
