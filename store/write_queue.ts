// Batches many small writes (per-turn, per-event) from concurrent calls into one transaction.

/** Options of a {@linkcode WriteQueue}. */
export interface WriteQueueOptions {
  /** Most jobs per transaction (default 500). A full batch is written at once. */
  maxBatch?: number;
  /** How long the first job of a batch waits for company, in ms (default 0: the next timer tick). */
  maxDelayMs?: number;
}

interface Job {
  fn: () => unknown;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

/** Outcome of one job inside a batch. */
export type JobResult = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Runs `fns` inside one transaction, each isolated (a savepoint), and returns their outcomes; throws
 * when the transaction itself cannot commit.
 */
export type BatchRunner = (fns: (() => unknown)[]) => JobResult[];

/**
 * A single-writer queue: `enqueue` returns a promise that settles only after the batch holding the job
 * has committed, so a resolved promise is an acknowledged (durable) write. A failing job rejects alone;
 * a failing commit rejects the whole batch.
 */
export class WriteQueue {
  #jobs: Job[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #flushing = false;
  #idle: (() => void)[] = [];
  readonly #runBatch: BatchRunner;
  readonly #maxBatch: number;
  readonly #maxDelayMs: number;

  constructor(runBatch: BatchRunner, opts: WriteQueueOptions = {}) {
    const maxBatch = opts.maxBatch ?? 500;
    const maxDelayMs = opts.maxDelayMs ?? 0;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      throw new RangeError(`Cannot create write queue: maxBatch must be a positive integer, got ${maxBatch}`);
    }
    if (!(maxDelayMs >= 0 && maxDelayMs <= 1000)) {
      throw new RangeError(`Cannot create write queue: maxDelayMs must be 0..1000, got ${maxDelayMs}`);
    }
    this.#runBatch = runBatch;
    this.#maxBatch = maxBatch;
    this.#maxDelayMs = maxDelayMs;
  }

  /** Number of jobs waiting for their batch. */
  get pending(): number {
    return this.#jobs.length;
  }

  /** Queues a synchronous write; resolves with its result once committed. */
  enqueue<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#jobs.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      if (this.#jobs.length >= this.#maxBatch) this.#schedule(0);
      else this.#schedule(this.#maxDelayMs);
    });
  }

  /** Writes everything queued now, synchronously (used by Store.close). */
  flushNow(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      while (this.#jobs.length > 0) this.#runOne(this.#jobs.splice(0, this.#maxBatch));
    } finally {
      this.#flushing = false;
    }
    for (const wake of this.#idle.splice(0)) wake();
  }

  /** Resolves when every job queued so far has been written (committed or rejected). */
  drain(): Promise<void> {
    if (this.#jobs.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #schedule(delayMs: number): void {
    if (this.#timer !== undefined && delayMs > 0) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.flushNow();
    }, delayMs);
  }

  #runOne(batch: Job[]): void {
    let results: JobResult[];
    try {
      results = this.#runBatch(batch.map((job) => job.fn));
    } catch (err) {
      for (const job of batch) job.reject(err);
      return;
    }
    batch.forEach((job, i) => {
      const result = results[i];
      if (result?.ok) job.resolve(result.value);
      else job.reject(result ? result.error : new Error("Write queue lost a job result"));
    });
  }
}
