// Scheduled companion calls (ui_schedules): TOM phones a person on some weekdays within a time window.
import type { Store } from "./db.ts";
import { many, run } from "./_util.ts";
import { nameOrder, personNameOpener } from "./people.ts";

/** A scheduled call. `weekdays` is a bit mask: Monday = 1, Tuesday = 2, ... Sunday = 64. */
export interface Schedule {
  id: string;
  accountId: string;
  personId: string;
  personName: string;
  weekdays: number;
  windowStart: string;
  windowEnd: string;
  enabled: boolean;
  createdAt: number;
}

/** Input of {@linkcode insertSchedule} (checked by the caller; the table's CHECKs are the last guard). */
export interface NewSchedule {
  personId: string;
  weekdays: number;
  windowStart: string;
  windowEnd: string;
}

/**
 * Store an enabled schedule for a person of this account.
 *
 * @returns the schedule, or undefined when the person is not in this account.
 */
export function insertSchedule(store: Store, accountId: string, s: NewSchedule): Schedule | undefined {
  const id = store.newId();
  const now = store.now();
  const changed = run(
    store.prepare(
      `INSERT INTO ui_schedules (id, account_id, person_id, weekdays, window_start, window_end, enabled,
         created_at, updated_at)
       SELECT ?, account_id, id, ?, ?, ?, 1, ?, ? FROM people WHERE account_id = ? AND id = ?`,
    ),
    id,
    s.weekdays,
    s.windowStart,
    s.windowEnd,
    now,
    now,
    accountId,
    s.personId,
  );
  return changed === 1 ? listSchedules(store, accountId, s.personId).find((x) => x.id === id) : undefined;
}

/** The account's schedule rows (optionally of one person, optionally only enabled), the name still sealed. */
function scheduleRows(
  store: Store,
  accountId: string,
  opts: { personId?: string; enabledOnly?: boolean },
): (Omit<Schedule, "enabled"> & { enabled: number })[] {
  return many<Omit<Schedule, "enabled"> & { enabled: number }>(
    store.prepare(
      `SELECT s.id, s.account_id AS accountId, s.person_id AS personId, p.display_name AS personName,
         s.weekdays, s.window_start AS windowStart, s.window_end AS windowEnd, s.enabled,
         s.created_at AS createdAt
       FROM ui_schedules s JOIN people p ON p.id = s.person_id AND p.account_id = s.account_id
       WHERE s.account_id = ?1 AND (?2 IS NULL OR s.person_id = ?2) AND (?3 = 0 OR s.enabled = 1)
       ORDER BY s.id`,
    ),
    accountId,
    opts.personId ?? null,
    opts.enabledOnly ? 1 : 0,
  );
}

/** The account's schedules (optionally of one person), by person name. */
export function listSchedules(store: Store, accountId: string, personId?: string): Schedule[] {
  // Names are sealed at rest (people.ts): opened, then sorted by name and window here.
  const open = personNameOpener(store);
  return scheduleRows(store, accountId, { personId }).map((r) => ({
    ...r,
    personName: open(accountId, r.personId, r.personName),
    enabled: r.enabled === 1,
  })).sort((a, b) =>
    nameOrder.compare(a.personName, b.personName) ||
    (a.windowStart < b.windowStart ? -1 : a.windowStart > b.windowStart ? 1 : 0)
  );
}

/**
 * The account's enabled schedules for the outbound scheduler (every 30 s): no name is opened, so no AES on
 * the tick, and no person's damaged sealed row can stop the scheduler.
 */
export function enabledScheduleTimes(store: Store, accountId: string): Omit<Schedule, "personName">[] {
  return scheduleRows(store, accountId, { enabledOnly: true }).map(({ personName: _, ...r }) => ({
    ...r,
    enabled: true,
  }));
}

/** Delete a schedule; false when it is not in this account. */
export function deleteSchedule(store: Store, accountId: string, id: string): boolean {
  return run(store.prepare("DELETE FROM ui_schedules WHERE account_id = ? AND id = ?"), accountId, id) === 1;
}

/** Turn a schedule on or off; false when it is not in this account. */
export function setScheduleEnabled(store: Store, accountId: string, id: string, enabled: boolean): boolean {
  return run(
    store.prepare("UPDATE ui_schedules SET enabled = ?, updated_at = ? WHERE account_id = ? AND id = ?"),
    enabled ? 1 : 0,
    store.now(),
    accountId,
    id,
  ) === 1;
}
