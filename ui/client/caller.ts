// Who is being put through, on the staff's notices (Live page, inbox): "Anna Muster (Rufnummer passt,
// nicht überprüft), +4930123456", or "Anrufer unbekannt" without a number. One wording for both islands.

/** The caller of a transfer event, as the live feed publishes it (see gateway TransferCaller). */
export interface NoticeCaller {
  number?: string;
  name?: string;
  identity?: string;
}

/** The German labels: `unknown` without name and number, the others per identity level. */
export type CallerTexts = Record<"unknown" | "number_match" | "placed" | "verified", string>;

/** Read a caller out of an event's data (anything else gives undefined). */
export function noticeCaller(v: unknown): NoticeCaller | undefined {
  if (!v || typeof v !== "object") return undefined;
  const o = v as Record<string, unknown>;
  const str = (x: unknown) => (typeof x === "string" && x !== "" ? x : undefined);
  return { number: str(o.number), name: str(o.name), identity: str(o.identity) };
}

/** "Anna Muster (Rufnummer passt, nicht überprüft), +4930123456"; the unknown label without both. */
export function callerText(c: NoticeCaller | undefined, t: CallerTexts): string {
  if (!c || (!c.name && !c.number)) return t.unknown;
  const level = t[c.identity as keyof CallerTexts] ?? t.number_match;
  const who = c.name ? `${c.name} (${level})` : "";
  return [who, c.number ?? ""].filter((s) => s !== "").join(", ");
}
