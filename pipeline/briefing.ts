/**
 * The briefing of a warm transfer: what TOM tells the staff member who answered before it puts the caller
 * through (who is calling, why they want a person, the call's short summary), spoken with the call's own TTS
 * when the transport asks for it (gateway's `TransferTo.briefing`; Asterisk with `asterisk.warmTransfer`,
 * FreeSWITCH with `freeswitch.warmTransfer`).
 *
 * @module
 */
import type { TransferBriefing } from "../gateway/mod.ts";
import type { TtsEngine } from "./engines/types.ts";
import { synthesizeAll } from "./phrases.ts";
import type { HandoverReason } from "./state.ts";

/** Longest summary read to the staff member (the rest is on the live page). */
const MAX_SUMMARY_CHARS = 160;

/** Why the caller is put through, as the staff member hears it. */
const WHY: Record<HandoverReason, string> = {
  caller_asked: "Der Anrufer möchte mit jemandem aus dem Team sprechen.",
  dtmf_0: "Der Anrufer hat die Null gedrückt.",
  tool: "Der Anrufer möchte mit jemandem aus dem Team sprechen.",
  not_understood: "Ich habe den Anrufer nicht gut verstanden.",
  engines_failed: "Ich hatte technische Schwierigkeiten.",
};

/**
 * How TOM knows the name: `checked` (a call TOM placed to the person, or a caller who passed the
 * practice's check), `number` (the caller ID matches a person: anyone can fake it), `said` (the caller
 * gave it in the call).
 */
export type NameBasis = "checked" | "number" | "said";

/** Who the staff member gets, honest about how TOM knows. */
function whoIs(name: string, basis: NameBasis): string {
  if (name === "") return "Ich verbinde Sie mit einem Anrufer.";
  if (basis === "checked") return `Ich verbinde Sie mit ${name}.`;
  if (basis === "number") {
    return `Ich verbinde Sie mit einem Anrufer. Die Rufnummer gehört zu ${name}, das ist nicht überprüft.`;
  }
  return `Ich verbinde Sie mit einem Anrufer, der sich ${name} nennt.`;
}

/** The German text of the briefing. */
export function briefingText(
  b: { name?: string; nameBasis?: NameBasis; reason: HandoverReason; summary: string },
): string {
  const name = (b.name ?? "").replace(/\s+/g, " ").trim().slice(0, 80);
  let summary = b.summary.replace(/\s+/g, " ").trim().replace(/[.!?…\s]*$/, "");
  if (summary.length > MAX_SUMMARY_CHARS) {
    summary = `${summary.slice(0, MAX_SUMMARY_CHARS).replace(/\s\S*$/, "")} …`;
  }
  return [
    "Hier ist TOM, der Telefonassistent.",
    whoIs(name, b.nameBasis ?? "said"),
    WHY[b.reason],
    summary === "" ? "" : `Anliegen: ${summary}${summary.endsWith("…") ? "" : "."}`,
  ].filter((s) => s !== "").join(" ");
}

/** The briefing for the transport: the text, spoken by `tts` when the staff member answered. */
export function transferBriefing(text: string, tts: TtsEngine, timeoutMs: number): TransferBriefing {
  return {
    text,
    audio: async (signal) => (await synthesizeAll(tts, text, signal, timeoutMs)) ?? new Int16Array(0),
  };
}
