/**
 * Companion calls on a schedule: "call Frau Weber Monday to Friday between 10:00 and 11:30". The
 * decision is pure ({@linkcode due}: schedules, their history and the time in, the schedules to call now
 * out), so it is tested exactly; {@linkcode OutboundScheduler} runs it on a timer and places the calls.
 *
 * The history of a schedule comes from the calls table ({@linkcode historyFromCalls}): today's outbound
 * calls to that person. That makes the decision survive a restart: a senior who was called at 10:05 is
 * not called again at 10:06 because TOM restarted in between.
 *
 * Retries: after a busy line, no answer or a failure, the next attempt waits at least `retryDelayMs`
 * (never below {@linkcode MIN_RETRY_DELAY_MS}); at most `maxAttempts` calls per day; once a call went
 * through (answered or completed) the day is done.
 *
 * @module
 */
import { listCalls, type Store } from "../../store/mod.ts";
import { localMidnight, localMoment, type Logger } from "../../infra/mod.ts";
import type { OutboundVia, PlaceCallRequest, PlaceCallResult } from "./place.ts";

/** When to call one person. */
export interface CallSchedule {
  id: string;
  accountId: string;
  personId: string;
  /** ISO weekdays: 1 = Monday ... 7 = Sunday. */
  weekdays: number[];
  /** Local start of the window, "HH:MM" (inclusive). */
  windowStart: string;
  /** Local end of the window, "HH:MM" (exclusive); must be after the start. */
  windowEnd: string;
  /** IANA time zone of the window (default Europe/Berlin). */
  timeZone?: string;
  via: OutboundVia;
  enabled: boolean;
}

/** Today's calls of a schedule, as far as the decision needs them. */
export interface ScheduleHistory {
  /** Outbound calls to the person started today (local day). */
  attemptsToday: number;
  /** When the latest of them started (unix ms). */
  lastAttemptAt?: number;
  /** One of them was answered (active or completed), or is still ringing. */
  settledToday: boolean;
}

/** Retry policy, with the reason for each number. */
export interface RetryPolicy {
  /** Calls per person and day: three rings unanswered are enough for one day. */
  maxAttempts: number;
  /** Wait between attempts: a senior who did not make it to the phone gets 15 minutes. */
  retryDelayMs: number;
}

/** The floor of any retry delay: never a tight loop, whatever the configuration says. */
export const MIN_RETRY_DELAY_MS = 60_000;
/** Default retry policy. */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 3, retryDelayMs: 15 * 60_000 };

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Problems with a schedule, as messages (empty when it is valid). */
export function scheduleProblems(s: CallSchedule): string[] {
  const p: string[] = [];
  if (s.weekdays.length === 0 || s.weekdays.some((d) => !Number.isInteger(d) || d < 1 || d > 7)) {
    p.push("weekdays must be ISO days 1 (Monday) to 7 (Sunday)");
  }
  const a = HHMM.exec(s.windowStart);
  const b = HHMM.exec(s.windowEnd);
  if (!a || !b) p.push('windowStart and windowEnd must be "HH:MM"');
  else if (s.windowStart >= s.windowEnd) p.push("windowEnd must be after windowStart");
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: s.timeZone ?? "Europe/Berlin" });
  } catch {
    p.push(`timeZone ${JSON.stringify(s.timeZone)} is not an IANA time zone`);
  }
  return p;
}

/** The local calendar day, ISO weekday (Monday 1 ... Sunday 7) and "HH:MM" of `now` in `timeZone`. */
export function localTime(
  now: number,
  timeZone = "Europe/Berlin",
): { day: string; weekday: number; hhmm: string } {
  const m = localMoment(new Date(now), timeZone);
  const hhmm = `${String(Math.floor(m.minutes / 60)).padStart(2, "0")}:${
    String(m.minutes % 60).padStart(2, "0")
  }`;
  return { day: m.date, weekday: m.weekday + 1, hhmm };
}

/** Unix ms of the local midnight that began the day of `now` in `timeZone` (exact on DST switch days). */
export function startOfLocalDay(now: number, timeZone = "Europe/Berlin"): number {
  return localMidnight(new Date(now), timeZone).getTime();
}

/**
 * The schedules to call now: enabled, valid, today one of its weekdays, inside its window, not yet
 * settled today, fewer than `maxAttempts` calls today, and the last one at least the retry delay ago.
 */
export function due(
  schedules: readonly CallSchedule[],
  now: number,
  history: (s: CallSchedule) => ScheduleHistory,
  policy: RetryPolicy = DEFAULT_RETRY,
): CallSchedule[] {
  const delay = Math.max(MIN_RETRY_DELAY_MS, policy.retryDelayMs);
  return schedules.filter((s) => {
    if (!s.enabled || scheduleProblems(s).length > 0) return false;
    const t = localTime(now, s.timeZone);
    if (!s.weekdays.includes(t.weekday) || t.hhmm < s.windowStart || t.hhmm >= s.windowEnd) return false;
    const h = history(s);
    if (h.settledToday || h.attemptsToday >= policy.maxAttempts) return false;
    return h.lastAttemptAt === undefined || now - h.lastAttemptAt >= delay;
  });
}

/** A schedule's history from the calls table: today's outbound calls to its person. */
export function historyFromCalls(store: Store, s: CallSchedule, now: number): ScheduleHistory {
  const since = startOfLocalDay(now, s.timeZone);
  const calls = listCalls(store, s.accountId, { personId: s.personId, since, limit: 100 })
    .filter((c) => c.direction === "outbound");
  return {
    attemptsToday: calls.length,
    lastAttemptAt: calls.length > 0 ? Math.max(...calls.map((c) => c.startedAt)) : undefined,
    // A call still ringing counts as settled for 10 minutes (longer: a row left behind by a crash).
    settledToday: calls.some((c) =>
      c.status === "active" || c.status === "completed" ||
      (c.status === "ringing" && now - c.startedAt < 600_000)
    ),
  };
}

/** Options of {@linkcode OutboundScheduler}. */
export interface SchedulerOptions {
  /** The schedules (from the store once a table exists; see the module doc). */
  schedules: () => CallSchedule[] | Promise<CallSchedule[]>;
  /** Today's history of a schedule (default: {@linkcode historyFromCalls} on `store`). */
  history?: (s: CallSchedule, now: number) => ScheduleHistory;
  store?: Store;
  /** Places one call (usually `(r) => placeCall(deps, r, { esl })`). */
  place: (req: PlaceCallRequest) => Promise<PlaceCallResult>;
  log: Logger;
  policy?: RetryPolicy;
  /** How often to look (default 30 s; at least 1 s). */
  intervalMs?: number;
  now?: () => number;
}

/** Runs due scheduled calls. */
export class OutboundScheduler {
  readonly #o: SchedulerOptions;
  readonly #inFlight = new Set<string>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = false;

  constructor(opts: SchedulerOptions) {
    if (!opts.history && !opts.store) throw new Error("Cannot build scheduler: give history or store");
    this.#o = opts;
  }

  /** Look once: place every due call (one after another) and return their outcomes. */
  async tick(): Promise<PlaceCallResult[]> {
    const now = (this.#o.now ?? Date.now)();
    const history = this.#o.history ??
      ((s: CallSchedule, t: number) => historyFromCalls(this.#o.store as Store, s, t));
    const list = await this.#o.schedules();
    const results: PlaceCallResult[] = [];
    for (const s of due(list, now, (x) => history(x, now), this.#o.policy)) {
      if (this.#stopped || this.#inFlight.has(s.personId)) continue;
      this.#inFlight.add(s.personId);
      try {
        const r = await this.#o.place({ accountId: s.accountId, personId: s.personId, via: s.via });
        results.push(r);
        this.#o.log.info("scheduled call placed", {
          schedule_id: s.id,
          ok: r.ok,
          status: r.status,
          ...(r.callId ? { call_id: r.callId } : {}),
        });
      } catch (e) {
        this.#o.log.error("scheduled call could not be placed", { schedule_id: s.id, error: e });
      } finally {
        this.#inFlight.delete(s.personId);
      }
    }
    return results;
  }

  /** Look every `intervalMs` until {@linkcode OutboundScheduler.stop}. */
  start(): void {
    if (this.#timer || this.#stopped) return;
    const every = Math.max(1000, this.#o.intervalMs ?? 30_000);
    const loop = () => {
      this.#running = this.tick().catch((e) => this.#o.log.error("scheduler tick failed", { error: e }))
        .finally(() => {
          if (!this.#stopped) this.#timer = setTimeout(loop, every);
        });
    };
    this.#timer = setTimeout(loop, every);
  }

  /** Stop looking; resolves once a running look has finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }
}
