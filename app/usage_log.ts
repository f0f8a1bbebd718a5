/**
 * The per-call usage log: one JSON line per finished call in `<dataDir>/usage/usage-YYYY-MM-DD.jsonl`
 * (UTC day of the call's end) with the engine time per stage and the audio seconds in and out, for
 * capacity planning ("how much GPU does a call cost") and for billing a practice. No personal data: the
 * call id and the account id, never a phone number, name or word.
 *
 * @module
 */
import { join } from "node:path";
import type { CallOwner, CallSummary } from "../pipeline/mod.ts";
import type { Logger } from "../infra/mod.ts";

/** One line of the usage log. */
export interface UsageRecord {
  /** ISO time the call ended. */
  time: string;
  call_id: string;
  account_id: string | null;
  duration_s: number;
  ending: CallSummary["ending"];
  turns: number;
  barge_ins: number;
  /** Engine milliseconds per stage, summed over the call. */
  engine_ms: { stt: number; llm: number; tts: number };
  /** Engine requests per stage. */
  engine_requests: { stt: number; llm: number; tts: number };
  audio_in_s: number;
  audio_out_s: number;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** The usage record of a call. */
export function usageRecord(
  summary: CallSummary,
  owner: CallOwner | undefined,
  at = new Date(),
): UsageRecord {
  const u = summary.usage;
  return {
    time: at.toISOString(),
    call_id: summary.callId,
    account_id: owner?.accountId ?? null,
    duration_s: r3(summary.durationMs / 1000),
    ending: summary.ending,
    turns: summary.turns,
    barge_ins: summary.bargeIns,
    engine_ms: {
      stt: Math.round(u.engineMs.stt),
      llm: Math.round(u.engineMs.llm),
      tts: Math.round(u.engineMs.tts),
    },
    engine_requests: { ...u.requests },
    audio_in_s: r3(u.audioInSeconds),
    audio_out_s: r3(u.audioOutSeconds),
  };
}

/** The file a record of `at` goes to. */
export function usageFile(dataDir: string, at: Date): string {
  return join(dataDir, "usage", `usage-${at.toISOString().slice(0, 10)}.jsonl`);
}

/**
 * A writer of the usage log. A failing write (full disk, permissions) is logged once per distinct error
 * and never reaches the call; the next call tries again.
 */
export function usageLogger(
  dataDir: string,
  log: Logger,
  now: () => Date = () => new Date(),
): (summary: CallSummary, owner: CallOwner | undefined) => Promise<void> {
  let lastError = "";
  let dirReady = false;
  return async (summary, owner) => {
    const at = now();
    const line = JSON.stringify(usageRecord(summary, owner, at)) + "\n";
    try {
      if (!dirReady) {
        await Deno.mkdir(join(dataDir, "usage"), { recursive: true, mode: 0o750 });
        dirReady = true;
      }
      // One write with O_APPEND per line: concurrent calls never interleave inside a line.
      await Deno.writeTextFile(usageFile(dataDir, at), line, { append: true, mode: 0o640 });
      lastError = "";
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (msg !== lastError) {
        log.warn("could not write the usage log", { error: msg, dir: join(dataDir, "usage") });
      }
      lastError = msg;
      dirReady = false;
    }
  };
}
