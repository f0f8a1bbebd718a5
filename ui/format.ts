// Formatting for German pages: dates in Europe/Berlin, durations, sentiment scores.

const DATE = new Intl.DateTimeFormat("de-DE", { dateStyle: "medium", timeZone: "Europe/Berlin" });
const NUM1 = new Intl.NumberFormat("de-DE", { maximumFractionDigits: 1, minimumFractionDigits: 1 });
const NUM2 = new Intl.NumberFormat("de-DE", { maximumFractionDigits: 2, minimumFractionDigits: 2 });

/** "21.11.2025, 17:03" (the islands' format too). */
export { dateTime } from "./client/mod.ts";

/** "21.11.2025". */
export function date(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? "–" : DATE.format(new Date(ms));
}

/** "4:05 min" or "42 s". */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "–";
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")} min`;
}

/** "+0,65" or "–". */
export function score(v: number | null | undefined): string {
  if (v === null || v === undefined) return "–";
  return (v > 0 ? "+" : "") + NUM2.format(v);
}

/** "1,5". */
export function one(v: number | null | undefined): string {
  return v === null || v === undefined ? "–" : NUM1.format(v);
}

/** Phone number shown with grouping for reading aloud: "+49 30 1234567" stays as stored. */
export function phone(e164: string): string {
  return e164;
}
