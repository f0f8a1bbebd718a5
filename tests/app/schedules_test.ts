import assert from "node:assert/strict";
import { loadConfig } from "../../infra/config.ts";
import { allSchedules, outboundVia, weekdaysFromMask } from "../../app/schedules.ts";
import { createAccount, createPerson, openStore, setScheduleEnabled } from "../../store/mod.ts";
import { createSchedule } from "../../ui/data/schedules.ts";
import { due } from "../../gateway/outbound/schedule.ts";

Deno.test("the UI's weekday bit mask becomes ISO weekdays", () => {
  assert.deepEqual(weekdaysFromMask(1), [1]);
  assert.deepEqual(weekdaysFromMask(0b0011111), [1, 2, 3, 4, 5]);
  assert.deepEqual(weekdaysFromMask(64), [7]);
  assert.deepEqual(weekdaysFromMask(0), []);
});

Deno.test("scheduled calls go out through FreeSWITCH, else Twilio, else not at all", () => {
  assert.equal(outboundVia(loadConfig({ env: {} })), undefined);
  assert.equal(outboundVia(loadConfig({ env: { TOM_FREESWITCH_ENABLED: "true" } })), "freeswitch");
  const twilio = {
    TOM_TWILIO_ACCOUNT_SID: "AC" + "0".repeat(32),
    TOM_TWILIO_AUTH_TOKEN: "secret",
    TOM_TWILIO_FROM_NUMBER: "+4930123456",
  };
  assert.equal(outboundVia(loadConfig({ env: twilio })), "twilio");
});

Deno.test("every account's enabled schedules reach the scheduler, and a due one is found", () => {
  const store = openStore(":memory:");
  try {
    const a = createAccount(store, { name: "A", kind: "private" });
    const b = createAccount(store, { name: "B", kind: "clinical" });
    const pa = createPerson(store, a.id, { kind: "senior", displayName: "Erika", phoneE164: "+4930111111" });
    const pb = createPerson(store, b.id, { kind: "patient", displayName: "Hans", phoneE164: "+4930222222" });
    createSchedule(store, a.id, { personId: pa.id, weekdays: 127, windowStart: "00:00", windowEnd: "23:59" });
    const off = createSchedule(store, b.id, {
      personId: pb.id,
      weekdays: 127,
      windowStart: "00:00",
      windowEnd: "23:59",
    });
    assert.ok(off);
    setScheduleEnabled(store, b.id, off.id, false);
    const list = allSchedules(store, "freeswitch");
    assert.deepEqual(list.map((s) => [s.accountId, s.personId, s.weekdays.length]), [[a.id, pa.id, 7]]);
    const now = Date.UTC(2026, 10, 23, 10, 0);
    const dueNow = due(list, now, () => ({ attemptsToday: 0, settledToday: false }));
    assert.equal(dueNow.length, 1);
  } finally {
    store.close();
  }
});
