/**
 * Post-call analysis: after a call the LLM reads the transcript and returns (constrained JSON, checked by
 * zod) the sentiment, a short summary and a memory update, which is merged into the person's memory as
 * far as consent allows. Runs from a queue ({@linkcode AnalysisWorker.tick}), never inside the call: a
 * failed analysis is retried later with backoff and given up after the last retry.
 *
 * Consent: the summary, the reason and the memory update are content of the conversation; they are kept
 * only when the caller is a known person with transcript consent. Otherwise only the sentiment numbers
 * are stored. The memory update is merged only for a call whose identity is `placed` or `verified`
 * (store/caller_identity.ts): a caller ID match alone never changes a person's memory. Health notes are
 * merged only when `allowHealthNotes(person)` says so (default: transcript
 * consent; a dedicated consent field would be better, see the report).
 *
 * @module
 */
import type { Logger } from "../../infra/mod.ts";
import type { ChatMessage } from "../engines/types.ts";
import type { Store } from "../../store/mod.ts";
import { completeAnalysis, failAnalysis, listDueAnalyses } from "../../store/mod.ts";
import { callConsent, getCall } from "../../store/mod.ts";
import { StoreConflictError } from "../../store/mod.ts";
import { getMemory, saveMemory } from "../../store/mod.ts";
import { getCallIdentity, identityTrusted } from "../../store/mod.ts";
import { getPerson, type Person } from "../../store/mod.ts";
import { ANALYSIS_JSON_SCHEMA, type AnalysisWire, parseAnalysis, toAnalysisResult } from "./schema.ts";
import type { JsonChat } from "../engines/json_llm.ts";
import { mergeMemory } from "./memory_merge.ts";

/** One utterance of the decrypted transcript. */
export interface TranscriptLine {
  speaker: "caller" | "assistant";
  text: string;
}

/** Longest transcript sent to the LLM, in characters (the end of the call is kept). */
export const MAX_TRANSCRIPT_CHARS = 6_000;

const SYSTEM = "Du analysierst ein beendetes Telefongespräch zwischen einem Anrufer und Tom, dem " +
  "Telefonassistenten einer Arztpraxis. Antworte nur mit JSON nach dem vorgegebenen Schema: sentiment " +
  "(positiv, neutral oder negativ), score von -100 bis 100, confidence von 0 bis 100, reason (ein kurzer " +
  "deutscher Satz), summary (höchstens 8 kurze Stichpunkte), memory (facts, preferences, important_people, " +
  "recent_topics, health_notes: nur was der Anrufer selbst gesagt hat; mood: seine Stimmung in einem Wort).";

/** The transcript as the LLM reads it ("Anrufer: …", "Tom: …"), clipped to its last {@linkcode MAX_TRANSCRIPT_CHARS}. */
export function transcriptText(lines: readonly TranscriptLine[]): string {
  const text = lines.map((l) => `${l.speaker === "caller" ? "Anrufer" : "Tom"}: ${l.text}`).join("\n");
  return text.length > MAX_TRANSCRIPT_CHARS ? "…" + text.slice(text.length - MAX_TRANSCRIPT_CHARS) : text;
}

/** The messages of the analysis request. */
export function analysisMessages(lines: readonly TranscriptLine[]): ChatMessage[] {
  return [{ role: "system", content: SYSTEM }, {
    role: "user",
    content: `Gespräch:\n${transcriptText(lines)}`,
  }];
}

/**
 * Ask the LLM for the analysis of a transcript.
 * @throws {Error} when the LLM fails or its answer breaks the schema
 */
export async function analyzeTranscript(
  chat: JsonChat,
  lines: readonly TranscriptLine[],
  signal?: AbortSignal,
): Promise<AnalysisWire> {
  return parseAnalysis(await chat(analysisMessages(lines), ANALYSIS_JSON_SCHEMA, signal));
}

/** Options of {@linkcode AnalysisWorker}. */
export interface AnalysisWorkerOptions {
  chat: JsonChat;
  /** The call's decrypted transcript (the store keeps it encrypted; the caller of the worker decrypts). */
  loadTranscript(accountId: string, callId: string): Promise<TranscriptLine[]>;
  /** Delays before retry 1, 2, ...; after the last the job fails for good (default 1 min, 5 min, 30 min, 2 h). */
  backoffMs?: readonly number[];
  /** Jobs per account per tick (default 5). */
  batch?: number;
  allowHealthNotes?(person: Person): boolean;
  log?: Pick<Logger, "info" | "warn">;
}

/** What one tick did. */
export interface TickResult {
  done: number;
  retried: number;
  failed: number;
}

/** Works the analysis queue; call {@linkcode tick} from a timer after calls end. */
export class AnalysisWorker {
  readonly #store: Store;
  readonly #o: AnalysisWorkerOptions;
  readonly #backoff: readonly number[];

  constructor(store: Store, opts: AnalysisWorkerOptions) {
    this.#store = store;
    this.#o = opts;
    this.#backoff = opts.backoffMs ?? [60_000, 300_000, 1_800_000, 7_200_000];
  }

  /** Run the due jobs of these accounts, one at a time. Never throws for a job's failure. */
  async tick(accountIds: readonly string[], signal?: AbortSignal): Promise<TickResult> {
    const r: TickResult = { done: 0, retried: 0, failed: 0 };
    for (const accountId of accountIds) {
      for (const job of listDueAnalyses(this.#store, accountId, this.#store.now(), this.#o.batch ?? 5)) {
        if (signal?.aborted) return r;
        try {
          await this.analyze(accountId, job.callId, signal);
          r.done++;
        } catch (err) {
          const attempt = job.attempts; // attempts before this one
          const delay = this.#backoff[attempt];
          const retryAt = delay === undefined ? null : this.#store.now() + delay;
          failAnalysis(this.#store, accountId, job.callId, (err as Error).message, retryAt);
          if (retryAt === null) r.failed++;
          else r.retried++;
          this.#o.log?.warn("rl analysis failed", {
            callId: job.callId,
            attempt: attempt + 1,
            retry: retryAt !== null,
            error: (err as Error).message,
          });
        }
      }
    }
    return r;
  }

  /**
   * Analyse one call now, store the result and merge the memory update.
   * @throws {Error} when there is no transcript or the LLM fails (the job is left for the caller to mark)
   */
  async analyze(accountId: string, callId: string, signal?: AbortSignal): Promise<AnalysisWire> {
    const lines = await this.#o.loadTranscript(accountId, callId);
    if (lines.length === 0) throw new Error(`Cannot analyse call ${callId}: no transcript`);
    const answer = await analyzeTranscript(this.#o.chat, lines, signal);
    const call = getCall(this.#store, accountId, callId);
    const consent = callConsent(this.#store, accountId, callId);
    const person = call?.personId ? getPerson(this.#store, accountId, call.personId) : undefined;
    const keep = person !== undefined && consent?.transcript === true;
    completeAnalysis(this.#store, accountId, callId, toAnalysisResult(answer, keep));
    // Only a call whose caller is proven (TOM placed it, or the caller passed the practice's check) may
    // change the person's memory: a caller ID alone can be spoofed (the analysis is kept for the call).
    const identity = getCallIdentity(this.#store, accountId, callId) ?? "unknown";
    const merge = keep && identityTrusted(identity);
    if (merge && person) {
      const health = this.#o.allowHealthNotes ? this.#o.allowHealthNotes(person) : true;
      this.#merge(accountId, person.id, answer, health);
    }
    this.#o.log?.info("rl analysis done", { callId, sentiment: answer.sentiment, memory: merge, identity });
    return answer;
  }

  #merge(accountId: string, personId: string, answer: AnalysisWire, allowHealthNotes: boolean): void {
    for (let i = 0; i < 3; i++) {
      const cur = getMemory(this.#store, accountId, personId);
      const next = mergeMemory(cur?.memory ?? {}, answer.memory, { allowHealthNotes });
      try {
        saveMemory(this.#store, accountId, personId, next, cur?.version ?? 0);
        return;
      } catch (err) {
        if (!(err instanceof StoreConflictError) || i === 2) throw err;
      }
    }
  }
}
