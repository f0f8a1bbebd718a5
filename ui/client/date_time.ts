// "21.11.2025, 17:03" in Europe/Berlin: the one date-and-time format of the pages, on the server
// (ui/format.ts re-exports it) and in islands alike, so a live row reads like a rendered one.

const DATE_TIME = new Intl.DateTimeFormat("de-DE", {
  dateStyle: "medium",
  timeStyle: "short",
  timeZone: "Europe/Berlin",
});

/** "21.11.2025, 17:03"; "–" without a time. */
export function dateTime(ms: number | null | undefined): string {
  return ms === null || ms === undefined || Number.isNaN(ms) ? "–" : DATE_TIME.format(new Date(ms));
}
