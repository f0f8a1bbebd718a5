/**
 * Matching FreeSWITCH's answers to TOM's commands on one event socket connection. FreeSWITCH answers
 * `api`, `bgapi`, `auth` and `event` commands strictly in the order they were sent (`api/response` or
 * `command/reply`), so replies are matched first in, first out; a command that timed out keeps its place
 * (its late reply is consumed, not handed to the next command). `bgapi` results arrive later as
 * `BACKGROUND_JOB` events and are matched by `Job-UUID`.
 *
 * @module
 */
import { type EslMessage, EslTimeoutError } from "./esl_wire.ts";

interface Waiter {
  resolve: (m: EslMessage) => void;
  reject: (e: Error) => void;
  /** Timed out: its reply still comes and is consumed, but nobody waits for it. */
  dead: boolean;
}

interface Job {
  resolve: (body: string) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** Replies and job results of one connection. */
export class EslCorrelator {
  #waiters: Waiter[] = [];
  #jobs = new Map<string, Job>();

  /**
   * Wait for the reply to a command that `send` puts on the wire (called at once, after the waiter is
   * queued, so the order of waiters is the order on the wire).
   */
  reply(send: () => Promise<void>, timeoutMs: number, what: string): Promise<EslMessage> {
    return new Promise<EslMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiter.dead = true;
        reject(new EslTimeoutError(`No ESL reply to "${what}" within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
        dead: false,
      };
      this.#waiters.push(waiter);
      send().catch((e) => waiter.reject(e instanceof Error ? e : new Error(String(e))));
    });
  }

  /** A `command/reply` or `api/response` arrived: it answers the oldest command. */
  replied(m: EslMessage): void {
    const waiter = this.#waiters.shift();
    if (waiter && !waiter.dead) waiter.resolve(m);
  }

  /** Expect the result of job `id` within `timeoutMs`. */
  job(id: string, timeoutMs: number, what: string): Promise<string> {
    const result = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#jobs.delete(id);
        reject(new EslTimeoutError(`No result for ESL job "${what}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#jobs.set(id, { resolve, reject, timer });
    });
    result.catch(() => {}); // the caller may stop waiting (command refused) before it settles
    return result;
  }

  /** FreeSWITCH announced another Job-UUID than TOM proposed: follow it. */
  renameJob(from: string, to: string): void {
    const job = this.#jobs.get(from);
    if (!job || from === to) return;
    this.#jobs.delete(from);
    this.#jobs.set(to, job);
  }

  /** Stop expecting job `id` (its command was refused). */
  dropJob(id: string): void {
    const job = this.#jobs.get(id);
    if (job) clearTimeout(job.timer);
    this.#jobs.delete(id);
  }

  /** A BACKGROUND_JOB event with `Job-UUID` `id` and result `body`. */
  jobDone(id: string, body: string): void {
    const job = this.#jobs.get(id);
    if (!job) return;
    this.#jobs.delete(id);
    clearTimeout(job.timer);
    job.resolve(body);
  }

  /** The connection is gone: every pending command and job fails with `err`. */
  failAll(err: Error): void {
    for (const w of this.#waiters.splice(0)) if (!w.dead) w.reject(err);
    for (const [id, job] of this.#jobs) {
      clearTimeout(job.timer);
      job.reject(err);
      this.#jobs.delete(id);
    }
  }
}
