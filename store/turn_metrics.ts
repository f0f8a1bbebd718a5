// Per-turn stage latencies of a call (ui_turn_metrics, no personal data): written by the pipeline, shown on
// the call detail page.
import type { Store } from "./db.ts";
import { many, run } from "./_util.ts";

/** One turn's timings in milliseconds (null when a stage did not run). */
export interface TurnMetrics {
  turnIndex: number;
  vadMs: number | null;
  sttMs: number | null;
  llmFirstTokenMs: number | null;
  ttsFirstAudioMs: number | null;
  totalMs: number | null;
  bargeIn: boolean;
}

/** Record (or replace) one turn's timings; false when the call is not in this account. */
export function recordTurnMetrics(store: Store, accountId: string, callId: string, m: TurnMetrics): boolean {
  const ms = (v: number | null) => (v === null ? null : Math.max(0, Math.round(v)));
  return run(
    store.prepare(
      `INSERT INTO ui_turn_metrics (account_id, call_id, turn_index, vad_ms, stt_ms, llm_first_token_ms,
         tts_first_audio_ms, total_ms, barge_in, created_at)
       SELECT account_id, id, ?, ?, ?, ?, ?, ?, ?, ? FROM calls WHERE account_id = ? AND id = ?
       ON CONFLICT (call_id, turn_index) DO UPDATE SET vad_ms = excluded.vad_ms, stt_ms = excluded.stt_ms,
         llm_first_token_ms = excluded.llm_first_token_ms, tts_first_audio_ms = excluded.tts_first_audio_ms,
         total_ms = excluded.total_ms, barge_in = excluded.barge_in`,
    ),
    m.turnIndex,
    ms(m.vadMs),
    ms(m.sttMs),
    ms(m.llmFirstTokenMs),
    ms(m.ttsFirstAudioMs),
    ms(m.totalMs),
    m.bargeIn ? 1 : 0,
    store.now(),
    accountId,
    callId,
  ) === 1;
}

/** The call's turn timings in order. */
export function listTurnMetrics(store: Store, accountId: string, callId: string): TurnMetrics[] {
  const rows = many<Omit<TurnMetrics, "bargeIn"> & { bargeIn: number }>(
    store.prepare(
      `SELECT turn_index AS turnIndex, vad_ms AS vadMs, stt_ms AS sttMs, llm_first_token_ms AS llmFirstTokenMs,
         tts_first_audio_ms AS ttsFirstAudioMs, total_ms AS totalMs, barge_in AS bargeIn
       FROM ui_turn_metrics WHERE account_id = ? AND call_id = ? ORDER BY turn_index`,
    ),
    accountId,
    callId,
  );
  return rows.map((r) => ({ ...r, bargeIn: r.bargeIn === 1 }));
}
