/**
 * The system prompt: the active conversation policy (the learning loop's variant) and the practice's
 * facts first, the stable prefix an LLM server can keep in its prompt cache across calls, then what
 * changes per call: the local date and time with "open now" (practice_facts.ts) and what TOM remembers
 * about a known, consenting caller. German; short phone answers.
 *
 * @module
 */
import type { ChatMessage } from "./engines/types.ts";
import { fillNames, type GreetingNames } from "./disclosure.ts";

/** The default conversation policy. */
export const DEFAULT_POLICY = [
  "Du bist {assistant}, die freundliche KI-Telefonassistenz der {practice}.",
  "Du sprichst Deutsch, mit Sie, ruhig, geduldig und klar; viele Anrufer sind älter oder krank.",
  "Antworte kurz: höchstens zwei kurze Sätze, ohne Aufzählungen, ohne Sonderzeichen, ohne Abkürzungen.",
  "Stelle höchstens eine Frage auf einmal.",
  "Du stellst keine Diagnosen und gibst keine medizinischen Ratschläge; bei einem Notfall sage: Bitte rufen Sie sofort die 112 an.",
  "Wenn du etwas nicht weißt, biete an, dass die Praxis zurückruft.",
].join(" ");

/** What the prompt may know about the caller (only when known and consented). */
export interface CallerContext {
  displayName?: string;
  kind?: "senior" | "patient";
  /** Known only by the caller ID (not proven): the prompt says so; no memory comes with it. */
  unconfirmed?: boolean;
  /** The person's memory document (facts, preferences, people, topics). */
  memory?: Record<string, unknown>;
}

/** What the prompt knows about the practice (practice_facts.ts). */
export interface PracticeContext {
  /** The assistant's and the practice's names (default: "TOM", "Praxis"). */
  names?: GreetingNames;
  /** The stable facts block (`practiceFacts`). */
  facts?: string;
  /** The lines that change per call (`momentFacts`). */
  moment?: string;
}

/** Largest memory text put into a prompt, in characters (keeps the prompt and its latency small). */
export const MAX_MEMORY_CHARS = 4_000;

/**
 * Build the system prompt: policy and practice facts (stable), then the moment and the caller (per call).
 *
 * @param policy the policy text (default {@linkcode DEFAULT_POLICY}); `{assistant}` and `{practice}` are
 *   filled from `practice.names`
 * @param caller the caller's context, when known and consented
 * @param practice the practice's names, facts and moment lines, when a practice is configured
 * @returns the system message's content
 */
export function buildSystemPrompt(
  policy: string = DEFAULT_POLICY,
  caller?: CallerContext,
  practice?: PracticeContext,
): string {
  const parts = [fillNames(policy.trim(), practice?.names)];
  if (practice?.facts) parts.push(practice.facts);
  if (practice?.moment) parts.push(practice.moment);
  if (caller?.displayName && caller.unconfirmed) {
    parts.push(
      `Der Anrufer ist vermutlich ${caller.displayName} (nur an der Rufnummer erkannt, nicht bestätigt): ` +
        "nenne keine gespeicherten Angaben über ihn.",
    );
  } else if (caller?.displayName) {
    parts.push(
      `Der Anrufer ist ${caller.displayName}${caller.kind === "patient" ? " (Patient der Praxis)" : ""}.`,
    );
  }
  const memory = caller?.memory && Object.keys(caller.memory).length > 0 ? JSON.stringify(caller.memory) : "";
  if (memory !== "") {
    const text = memory.length > MAX_MEMORY_CHARS ? memory.slice(0, MAX_MEMORY_CHARS) + "…" : memory;
    parts.push(`Was du aus früheren Gesprächen weißt (nutze es behutsam, lies es nicht vor): ${text}`);
  }
  return parts.join("\n");
}

/** One exchange of the conversation so far. */
export interface HistoryTurn {
  caller: string;
  /** What the caller heard of TOM's answer (cut at a barge-in). */
  assistant: string;
}

/**
 * The messages for one LLM request: system prompt, the last `historyTurns` exchanges, the caller's words.
 */
export function buildMessages(
  system: string,
  history: readonly HistoryTurn[],
  callerText: string,
  historyTurns = 12,
): ChatMessage[] {
  const msgs: ChatMessage[] = [{ role: "system", content: system }];
  for (const h of history.slice(Math.max(0, history.length - historyTurns))) {
    msgs.push({ role: "user", content: h.caller });
    if (h.assistant !== "") msgs.push({ role: "assistant", content: h.assistant });
  }
  msgs.push({ role: "user", content: callerText });
  return msgs;
}
