/**
 * Wall-clock time in an IANA time zone with `Intl` alone (no DST tables of our own): the local date and
 * time of an instant, and the instant of a local date and time (a time skipped by the spring switch is
 * moved forward by the gap, a time repeated in autumn takes the earlier instant, like Temporal's
 * "compatible" disambiguation).
 *
 * @module
 */

/** A local calendar date and a time of day (minutes after midnight). */
export interface LocalMoment {
  /** "YYYY-MM-DD" */
  date: string;
  /** 0 = Monday ... 6 = Sunday */
  weekday: number;
  /** minutes after local midnight */
  minutes: number;
}

const FORMATS = new Map<string, Intl.DateTimeFormat>();

function format(timeZone: string): Intl.DateTimeFormat {
  let f = FORMATS.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    FORMATS.set(timeZone, f);
  }
  return f;
}

/** The local wall clock of `ms` in `timeZone`, as if it were UTC (milliseconds, whole seconds). */
function wallMs(ms: number, timeZone: string): number {
  const p: Record<string, number> = {};
  for (const part of format(timeZone).formatToParts(new Date(ms))) {
    if (part.type !== "literal") p[part.type] = Number(part.value);
  }
  return Date.UTC(p.year, p.month - 1, p.day, p.hour % 24, p.minute, p.second);
}

/** The local date, weekday and time of `at` in `timeZone`. */
export function localMoment(at: Date, timeZone: string): LocalMoment {
  const w = new Date(wallMs(Math.floor(at.getTime() / 1000) * 1000, timeZone));
  return {
    date: w.toISOString().slice(0, 10),
    weekday: (w.getUTCDay() + 6) % 7,
    minutes: w.getUTCHours() * 60 + w.getUTCMinutes(),
  };
}

/** The instant local midnight began the day of `at` in `timeZone`, `daysBack` local days earlier. */
export function localMidnight(at: Date, timeZone: string, daysBack = 0): Date {
  return localInstant(addDays(localMoment(at, timeZone).date, -daysBack), 0, timeZone);
}

/** The instant local midnight began the Monday of the week of `at` in `timeZone`. */
export function startOfLocalWeek(at: Date, timeZone: string): Date {
  const m = localMoment(at, timeZone);
  return localInstant(addDays(m.date, -m.weekday), 0, timeZone);
}

/** "YYYY-MM-DD" plus `days` (calendar arithmetic, no time zone involved). */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** Monday = 0 ... Sunday = 6 of a "YYYY-MM-DD" date. */
export function weekdayOf(date: string): number {
  const [y, m, d] = date.split("-").map(Number);
  return (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7;
}

/** The instant of local `date` at `minutes` after midnight in `timeZone` (1440 = the next midnight). */
export function localInstant(date: string, minutes: number, timeZone: string): Date {
  const [y, m, d] = date.split("-").map(Number);
  const wall = Date.UTC(y, m - 1, d, 0, minutes);
  const DAY = 86_400_000;
  // The offsets half a day before and after: at most one DST switch lies between them.
  const before = wallMs(wall - DAY / 2, timeZone) - (wall - DAY / 2);
  const after = wallMs(wall + DAY / 2, timeZone) - (wall + DAY / 2);
  const valid = [wall - before, wall - after].filter((t) => wallMs(t, timeZone) === wall);
  // Both valid: the repeated autumn hour, take the earlier; none: the skipped spring hour, move forward.
  return new Date(valid.length > 0 ? Math.min(...valid) : wall - before);
}
