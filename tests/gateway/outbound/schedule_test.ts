import assert from "node:assert/strict";
import { silentLogger } from "../../../infra/log.ts";
import {
  createAccount,
  createCall,
  createPerson,
  endCall,
  markCallAnswered,
  openStore,
} from "../../../store/mod.ts";
import {
  type CallSchedule,
  due,
  historyFromCalls,
  localTime,
  MIN_RETRY_DELAY_MS,
  OutboundScheduler,
  type ScheduleHistory,
  scheduleProblems,
  startOfLocalDay,
} from "../../../gateway/outbound/schedule.ts";
import type { PlaceCallRequest, PlaceCallResult } from "../../../gateway/outbound/place.ts";

// 2024-01-01 was a Monday; 09:30 UTC is 10:30 in Berlin (CET, UTC+1).
const MONDAY_1030_BERLIN = Date.UTC(2024, 0, 1, 9, 30);
const MIN = 60_000;

function schedule(over: Partial<CallSchedule> = {}): CallSchedule {
  return {
    id: "s1",
    accountId: "a1",
    personId: "p1",
    weekdays: [1, 2, 3, 4, 5],
    windowStart: "10:00",
    windowEnd: "11:30",
    timeZone: "Europe/Berlin",
    via: "freeswitch",
    enabled: true,
    ...over,
  };
}

const fresh: ScheduleHistory = { attemptsToday: 0, settledToday: false };

Deno.test("local time of a schedule is computed in its time zone", () => {
  assert.deepEqual(localTime(MONDAY_1030_BERLIN), { day: "2024-01-01", weekday: 1, hhmm: "10:30" });
  assert.deepEqual(localTime(MONDAY_1030_BERLIN, "America/New_York"), {
    day: "2024-01-01",
    weekday: 1,
    hhmm: "04:30",
  });
  // Summer time: 08:30 UTC on 2024-07-07 (a Sunday) is 10:30 in Berlin.
  assert.deepEqual(localTime(Date.UTC(2024, 6, 7, 8, 30)), { day: "2024-07-07", weekday: 7, hhmm: "10:30" });
});

// The day's attempts are counted from local midnight: on the day the clocks change, an hour off would count
// yesterday's last call as today's (or miss today's first).
Deno.test("a schedule's day starts at local midnight, also on the days the clocks change", () => {
  // 2026-03-29: Berlin goes from 02:00 CET to 03:00 CEST; 10:30 CEST is 08:30 UTC, midnight was 23:00 UTC.
  assert.equal(startOfLocalDay(Date.UTC(2026, 2, 29, 8, 30)), Date.UTC(2026, 2, 28, 23, 0));
  // 2026-10-25: back from 03:00 CEST to 02:00 CET; 10:30 CET is 09:30 UTC, midnight was 22:00 UTC.
  assert.equal(startOfLocalDay(Date.UTC(2026, 9, 25, 9, 30)), Date.UTC(2026, 9, 24, 22, 0));
  assert.equal(startOfLocalDay(MONDAY_1030_BERLIN), MONDAY_1030_BERLIN - 10.5 * 60 * MIN);
});

Deno.test("a schedule is due on its weekdays inside its window only", () => {
  const s = schedule();
  assert.deepEqual(due([s], MONDAY_1030_BERLIN, () => fresh), [s]);
  assert.deepEqual(due([s], MONDAY_1030_BERLIN - 31 * MIN, () => fresh), [], "09:59 is before the window");
  assert.deepEqual(due([s], MONDAY_1030_BERLIN - 30 * MIN, () => fresh), [s], "10:00 is inside");
  assert.deepEqual(due([s], MONDAY_1030_BERLIN + 60 * MIN, () => fresh), [], "11:30 is the exclusive end");
  assert.deepEqual(
    due([s], MONDAY_1030_BERLIN + 6 * 24 * 60 * MIN, () => fresh),
    [],
    "Sunday is not a weekday",
  );
  assert.deepEqual(due([schedule({ enabled: false })], MONDAY_1030_BERLIN, () => fresh), []);
  assert.deepEqual(due([schedule({ timeZone: "America/New_York" })], MONDAY_1030_BERLIN, () => fresh), []);
});

Deno.test("retries wait at least the retry delay (never below one minute) and stop after maxAttempts; a settled day is done", () => {
  const s = schedule();
  const now = MONDAY_1030_BERLIN;
  const tried = (ago: number, n = 1): ScheduleHistory => ({
    attemptsToday: n,
    lastAttemptAt: now - ago,
    settledToday: false,
  });
  const policy = { maxAttempts: 3, retryDelayMs: 15 * MIN };
  assert.deepEqual(due([s], now, () => tried(14 * MIN), policy), []);
  assert.deepEqual(due([s], now, () => tried(15 * MIN), policy), [s]);
  assert.deepEqual(
    due([s], now, () => tried(60 * MIN, 3), policy),
    [],
    "three attempts are enough for a day",
  );
  assert.deepEqual(due([s], now, () => ({ ...fresh, settledToday: true }), policy), []);
  const reckless = { maxAttempts: 100, retryDelayMs: 0 };
  assert.deepEqual(due([s], now, () => tried(MIN_RETRY_DELAY_MS - 1), reckless), [], "the floor holds");
  assert.deepEqual(due([s], now, () => tried(MIN_RETRY_DELAY_MS), reckless), [s]);
});

Deno.test("invalid schedules are reported and never due", () => {
  const bad = schedule({ weekdays: [0, 8], windowStart: "11:00", windowEnd: "10:00", timeZone: "Mars/Base" });
  assert.equal(scheduleProblems(bad).length, 3);
  assert.deepEqual(due([bad], MONDAY_1030_BERLIN, () => fresh), []);
  assert.deepEqual(scheduleProblems(schedule()), []);
});

Deno.test("the scheduler places due calls, and its history from the calls table keeps it from calling again too soon", async () => {
  const store = openStore(":memory:");
  try {
    const account = createAccount(store, { name: "Familie", kind: "private" });
    const person = createPerson(store, account.id, {
      kind: "senior",
      displayName: "Frau Weber",
      phoneE164: "+4930123456",
    });
    const s = schedule({ accountId: account.id, personId: person.id });
    let now = MONDAY_1030_BERLIN;
    let outcome: "busy" | "answered" = "busy";
    const placed: PlaceCallRequest[] = [];
    const place = (req: PlaceCallRequest): Promise<PlaceCallResult> => {
      placed.push(req);
      const call = createCall(store, req.accountId, {
        direction: "outbound",
        transport: "freeswitch",
        personId: req.personId,
        startedAt: now,
      });
      if (outcome === "busy") {
        endCall(store, req.accountId, call.id, {
          status: "busy",
          at: now,
          failureReason: "FreeSWITCH: USER_BUSY",
        });
        return Promise.resolve({
          ok: false,
          callId: call.id,
          status: "busy",
          reason: "FreeSWITCH: USER_BUSY",
        });
      }
      markCallAnswered(store, req.accountId, call.id, now);
      return Promise.resolve({ ok: true, callId: call.id, status: "answered" });
    };
    const scheduler = new OutboundScheduler({
      schedules: () => [s],
      store,
      place,
      log: silentLogger,
      now: () => now,
    });
    assert.equal((await scheduler.tick()).length, 1);
    assert.deepEqual(placed, [{ accountId: account.id, personId: person.id, via: "freeswitch" }]);
    now += MIN;
    assert.equal((await scheduler.tick()).length, 0, "busy a minute ago: wait");
    assert.deepEqual(historyFromCalls(store, s, now), {
      attemptsToday: 1,
      lastAttemptAt: MONDAY_1030_BERLIN,
      settledToday: false,
    });
    now += 15 * MIN;
    outcome = "answered";
    assert.equal((await scheduler.tick()).length, 1, "retry after the delay");
    now += 16 * MIN;
    assert.equal((await scheduler.tick()).length, 0, "answered today: done");
    assert.equal(placed.length, 2);
    await scheduler.stop();
  } finally {
    store.close();
  }
});
