// Calendar arithmetic in the practice's time zone (Europe/Berlin), independent of the server's zone.

const PARTS = new Intl.DateTimeFormat("en-GB", {
  timeZone: "Europe/Berlin",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  weekday: "short",
  hourCycle: "h23",
});
const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/** Berlin wall-clock parts of an instant; weekday 0 = Monday. */
export function berlinParts(
  ms: number,
): { y: number; m: number; d: number; h: number; min: number; s: number; weekday: number } {
  const p = Object.fromEntries(PARTS.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return {
    y: Number(p.year),
    m: Number(p.month),
    d: Number(p.day),
    h: Number(p.hour),
    min: Number(p.minute),
    s: Number(p.second),
    weekday: WEEKDAYS.indexOf(p.weekday),
  };
}

/** The instant of Berlin midnight starting the day of `ms`, `daysBack` days earlier. */
export function berlinMidnight(ms: number, daysBack = 0): number {
  const p = berlinParts(ms);
  const sinceMidnight = ((p.h * 60 + p.min) * 60 + p.s) * 1000 + (ms % 1000);
  // Step back day by day so daylight-saving changes are honoured.
  let t = ms - sinceMidnight;
  for (let i = 0; i < daysBack; i++) t = berlinMidnight(t - 3_600_000);
  return t;
}

/** Berlin midnight of this week's Monday. */
export function startOfWeek(ms: number): number {
  return berlinMidnight(ms, berlinParts(ms).weekday);
}

/** "YYYY-MM-DD" of the Berlin day of an instant. */
export function berlinDay(ms: number): string {
  const p = berlinParts(ms);
  return `${p.y}-${String(p.m).padStart(2, "0")}-${String(p.d).padStart(2, "0")}`;
}
