import assert from "node:assert/strict";
import {
  addDays,
  localInstant,
  localMidnight,
  localMoment,
  startOfLocalWeek,
  weekdayOf,
} from "../../infra/local_time.ts";

const B = "Europe/Berlin";

Deno.test("local moments in Berlin around both DST switches of 2026", () => {
  assert.deepStrictEqual(localMoment(new Date("2026-03-29T00:59:00Z"), B), {
    date: "2026-03-29",
    weekday: 6,
    minutes: 1 * 60 + 59,
  });
  assert.equal(localMoment(new Date("2026-03-29T01:00:00Z"), B).minutes, 3 * 60, "02:00 CET -> 03:00 CEST");
  assert.equal(localMoment(new Date("2026-10-25T00:30:00Z"), B).minutes, 2 * 60 + 30);
  assert.equal(localMoment(new Date("2026-10-25T01:30:00Z"), B).minutes, 2 * 60 + 30, "02:30 twice");
});

Deno.test("local instants: plain, skipped in spring (moved forward), repeated in autumn (earlier)", () => {
  assert.equal(localInstant("2026-03-28", 8 * 60, B).toISOString(), "2026-03-28T07:00:00.000Z");
  assert.equal(localInstant("2026-03-30", 8 * 60, B).toISOString(), "2026-03-30T06:00:00.000Z");
  assert.equal(localInstant("2026-03-29", 2 * 60 + 30, B).toISOString(), "2026-03-29T01:30:00.000Z");
  assert.equal(localInstant("2026-10-25", 2 * 60 + 30, B).toISOString(), "2026-10-25T00:30:00.000Z");
  assert.equal(localInstant("2026-10-25", 3 * 60, B).toISOString(), "2026-10-25T02:00:00.000Z");
  assert.equal(localInstant("2026-10-25", 24 * 60, B).toISOString(), "2026-10-25T23:00:00.000Z");
  assert.equal(
    localInstant("2026-03-30", 9 * 60, "America/New_York").toISOString(),
    "2026-03-30T13:00:00.000Z",
  );
});

Deno.test("calendar arithmetic on local dates", () => {
  assert.equal(addDays("2026-12-31", 1), "2027-01-01");
  assert.equal(addDays("2026-03-01", -1), "2026-02-28");
  assert.equal(weekdayOf("2026-03-30"), 0);
  assert.equal(weekdayOf("2026-03-29"), 6);
});

Deno.test("local midnights and week starts step over both DST switches of 2026", () => {
  const iso = (d: Date) => d.toISOString();
  // Sunday 29 March, 10:00 CEST: the day began at 00:00 CET.
  assert.equal(iso(localMidnight(new Date("2026-03-29T08:00:00Z"), B)), "2026-03-28T23:00:00.000Z");
  assert.equal(iso(localMidnight(new Date("2026-03-30T08:00:00Z"), B, 2)), "2026-03-27T23:00:00.000Z");
  // Sunday 25 October, 10:00 CET: the day began at 00:00 CEST; Monday's midnight lies before the switch.
  assert.equal(iso(localMidnight(new Date("2026-10-25T09:00:00Z"), B)), "2026-10-24T22:00:00.000Z");
  assert.equal(iso(localMidnight(new Date("2026-10-27T09:00:00Z"), B, 3)), "2026-10-23T22:00:00.000Z");
  assert.equal(iso(startOfLocalWeek(new Date("2026-10-25T09:00:00Z"), B)), "2026-10-18T22:00:00.000Z");
  assert.equal(iso(startOfLocalWeek(new Date("2026-10-26T09:00:00Z"), B)), "2026-10-25T23:00:00.000Z");
});
