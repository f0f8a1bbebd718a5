// Scheduled calls (store/schedules.ts): only for a person of the same account; listed, switched and deleted
// per account.
import assert from "node:assert/strict";
import {
  deleteSchedule,
  enabledScheduleTimes,
  insertSchedule,
  listSchedules,
  setScheduleEnabled,
} from "../../store/mod.ts";
import { memoryStore, seedTwoTenants, T0 } from "./_helpers.ts";

const WINDOW = { weekdays: 5, windowStart: "09:00", windowEnd: "10:30" };

Deno.test("a schedule is stored for a person of the account and listed with the person's name", () => {
  const { store } = memoryStore();
  const { a, b } = seedTwoTenants(store);
  assert.equal(insertSchedule(store, b.account.id, { personId: a.person.id, ...WINDOW }), undefined);
  const s = insertSchedule(store, a.account.id, { personId: a.person.id, ...WINDOW });
  assert.ok(s);
  assert.deepEqual(s, {
    id: s.id,
    accountId: a.account.id,
    personId: a.person.id,
    personName: "Senior of A",
    ...WINDOW,
    enabled: true,
    createdAt: T0,
  });
  assert.deepEqual(listSchedules(store, a.account.id), [s]);
  assert.deepEqual(listSchedules(store, a.account.id, a.person.id), [s]);
  assert.deepEqual(listSchedules(store, a.account.id, b.person.id), []);
  assert.deepEqual(listSchedules(store, b.account.id), []);
  assert.throws(() => insertSchedule(store, a.account.id, { ...WINDOW, personId: a.person.id, weekdays: 0 }));
  store.close();
});

Deno.test("only the schedule's own account switches or deletes it", () => {
  const { store } = memoryStore();
  const { a, b } = seedTwoTenants(store);
  const s = insertSchedule(store, a.account.id, { personId: a.person.id, ...WINDOW });
  assert.ok(s);
  assert.equal(setScheduleEnabled(store, b.account.id, s.id, false), false);
  assert.equal(setScheduleEnabled(store, a.account.id, s.id, false), true);
  assert.equal(listSchedules(store, a.account.id)[0].enabled, false);
  assert.equal(deleteSchedule(store, b.account.id, s.id), false);
  assert.equal(deleteSchedule(store, a.account.id, s.id), true);
  assert.deepEqual(listSchedules(store, a.account.id), []);
  store.close();
});

Deno.test("the scheduler's list opens no sealed name: one damaged name stops no practice's scheduled calls", () => {
  const { store } = memoryStore();
  const { a } = seedTwoTenants(store);
  const s = insertSchedule(store, a.account.id, { personId: a.person.id, ...WINDOW });
  assert.ok(s);
  setScheduleEnabled(store, a.account.id, s.id, true);
  // A name whose envelope no longer opens (a damaged page, a lost key).
  store.db.prepare("UPDATE people SET display_name = ? WHERE id = ?").run(
    '{"tomseal":1,"k":"x","n":"AA","c":"AA"}',
    a.person.id,
  );
  assert.throws(() => listSchedules(store, a.account.id), "the staff's list still opens the names");
  assert.deepEqual(enabledScheduleTimes(store, a.account.id).map((x) => x.id), [s.id]);
  store.close();
});
