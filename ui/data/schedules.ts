// Scheduled companion calls: TOM phones a person on some weekdays within a time window. The rows live in
// store/schedules.ts; this checks the input and picks the schedules due now.
import type { NewSchedule, Schedule, Store } from "../../store/mod.ts";
import { insertSchedule, listSchedules } from "../../store/mod.ts";

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
  return insertSchedule(store, accountId, s);
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
