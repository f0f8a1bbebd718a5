// Scheduled companion calls: TOM phones a person on some weekdays within a time window.
import type { Store } from "../../store/mod.ts";

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

/** Input of {@linkcode createSchedule}. */
export interface NewSchedule {
  personId: string;
  weekdays: number;
  windowStart: string;
  windowEnd: string;
}

const HHMM = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;

/** Whether a schedule input is valid; returns the problems by field. */
export function validateSchedule(s: NewSchedule): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!s.personId) errors.personId = "person";
  if (!Number.isInteger(s.weekdays) || s.weekdays < 1 || s.weekdays > 127) errors.weekdays = "weekdays";
  if (!HHMM.test(s.windowStart) || !HHMM.test(s.windowEnd) || s.windowStart >= s.windowEnd) {
    errors.window = "window";
  }
  return errors;
}

/**
 * Create a schedule for a person of this account.
 *
 * @returns the schedule, or undefined when the person is not in this account.
 * @throws {TypeError} on invalid input.
 */
export function createSchedule(store: Store, accountId: string, s: NewSchedule): Schedule | undefined {
  if (Object.keys(validateSchedule(s)).length > 0) {
    throw new TypeError("Cannot create schedule: invalid input");
  }
  const id = store.newId();
  const now = store.now();
  const changed = Number(
    store.prepare(
      `INSERT INTO ui_schedules (id, account_id, person_id, weekdays, window_start, window_end, enabled,
         created_at, updated_at)
       SELECT ?, account_id, id, ?, ?, ?, 1, ?, ? FROM people WHERE account_id = ? AND id = ?`,
    ).run(id, s.weekdays, s.windowStart, s.windowEnd, now, now, accountId, s.personId).changes,
  );
  return changed === 1 ? listSchedules(store, accountId).find((x) => x.id === id) : undefined;
}

/** The account's schedules (optionally of one person), by person name. */
export function listSchedules(store: Store, accountId: string, personId?: string): Schedule[] {
  const rows = store.prepare(
    `SELECT s.id, s.account_id AS accountId, s.person_id AS personId, p.display_name AS personName,
       s.weekdays, s.window_start AS windowStart, s.window_end AS windowEnd, s.enabled, s.created_at AS createdAt
     FROM ui_schedules s JOIN people p ON p.id = s.person_id AND p.account_id = s.account_id
     WHERE s.account_id = ?1 AND (?2 IS NULL OR s.person_id = ?2) ORDER BY p.display_name, s.window_start`,
  ).all(accountId, personId ?? null) as unknown as (Omit<Schedule, "enabled"> & { enabled: number })[];
  return rows.map((r) => ({ ...r, enabled: r.enabled === 1 }));
}

/** Delete a schedule; false when it is not in this account. */
export function deleteSchedule(store: Store, accountId: string, id: string): boolean {
  return Number(
    store.prepare("DELETE FROM ui_schedules WHERE account_id = ? AND id = ?").run(accountId, id).changes,
  ) ===
    1;
}

/** Turn a schedule on or off; false when it is not in this account. */
export function setScheduleEnabled(store: Store, accountId: string, id: string, enabled: boolean): boolean {
  return Number(
    store.prepare("UPDATE ui_schedules SET enabled = ?, updated_at = ? WHERE account_id = ? AND id = ?")
      .run(enabled ? 1 : 0, store.now(), accountId, id).changes,
  ) === 1;
}

/** Schedules due now: enabled, today's weekday in the mask, `hh:mm` (local time) inside the window. */
export function dueSchedules(
  store: Store,
  accountId: string,
  weekdayIndex: number,
  hhmm: string,
): Schedule[] {
  return listSchedules(store, accountId).filter((s) =>
    s.enabled && (s.weekdays & (1 << weekdayIndex)) !== 0 && s.windowStart <= hhmm && hhmm < s.windowEnd
  );
}
