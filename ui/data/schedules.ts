// Scheduled companion calls: TOM phones a person on some weekdays within a time window. The rows live in
// store/schedules.ts; this checks the input (which schedules are due: gateway/outbound/schedule.ts).
import type { NewSchedule, Schedule, Store } from "../../store/mod.ts";
import { insertSchedule } from "../../store/mod.ts";

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
