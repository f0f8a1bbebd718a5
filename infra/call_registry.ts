/**
 * The registry of live calls, so shutdown can drain them and `/healthz` can count them. Transports
 * register each call with a way to end it politely.
 *
 * @module
 */

/** A call refused because TOM holds its maximum of concurrent calls (`maxCalls`). */
export class CallsFullError extends Error {
  constructor(readonly max: number) {
    super(`Cannot accept call: ${max} concurrent calls is the maximum (maxCalls)`);
    this.name = "CallsFullError";
  }
}

/** A live call as the registry sees it. */
export interface LiveCall {
  id: string;
  /** Ask the call to end (say goodbye, hang up); resolves when it has ended. */
  end(reason: string): Promise<void>;
}

/** Live calls, and whether new ones are accepted. */
export class CallRegistry {
  #calls = new Map<string, LiveCall>();
  /** Most live calls (0: no limit). */
  readonly max: number;
  #started = 0;
  #draining = false;
  #idle: Array<() => void> = [];

  /** @param opts.max most live calls (`maxCalls`, 0 or absent: no limit) */
  constructor(opts: { max?: number } = {}) {
    this.max = opts.max ?? 0;
  }

  /** True when the registry holds its maximum of live calls: transports refuse new ones (reason "full"). */
  get full(): boolean {
    return this.max > 0 && this.#calls.size >= this.max;
  }

  /** Number of live calls. */
  get size(): number {
    return this.#calls.size;
  }

  /** Calls registered since start (for the `tom_calls_total` counter). */
  get started(): number {
    return this.#started;
  }

  /** True once shutdown began; transports refuse new calls. */
  get draining(): boolean {
    return this.#draining;
  }

  /**
   * Register a call; returns its unregister function.
   *
   * @throws {Error} when the appliance is shutting down, or {@linkcode CallsFullError} at the maximum.
   */
  add(call: LiveCall): () => void {
    if (this.#draining) throw new Error("Cannot accept call: the appliance is shutting down");
    if (this.full) throw new CallsFullError(this.max);
    this.#calls.set(call.id, call);
    this.#started++;
    return () => {
      this.#calls.delete(call.id);
      if (this.#calls.size === 0) { for (const f of this.#idle.splice(0)) f(); }
    };
  }

  /**
   * Stop accepting calls, wait up to `graceMs` for live ones to finish, then ask the rest to end.
   *
   * @returns how many calls had to be ended by force.
   */
  async drain(graceMs: number): Promise<number> {
    this.#draining = true;
    if (this.#calls.size === 0) return 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      new Promise<void>((r) => this.#idle.push(r)),
      new Promise<void>((r) => (timer = setTimeout(r, graceMs))),
    ]);
    clearTimeout(timer);
    const rest = [...this.#calls.values()];
    await Promise.allSettled(rest.map((c) => c.end("shutdown")));
    return rest.length;
  }
}
