// Post-call analysis: a small job queue per call (pending -> done | failed, with retries) and its result.
import type { Store } from "./db.ts";
import { StoreNotFoundError } from "./errors.ts";
import type { JsonObject } from "./types.ts";
import { jsonText, many, one, parseJson, requireNumber, requireOneOf, requireText, run } from "./_util.ts";
import { openNullable, sealField } from "./crypto/sealed_fields.ts";
import type { TranscriptKeyring } from "./crypto/keyring.ts";

/** Sentiment of a call, in German as the analysis prompt returns it. */
export type SentimentLabel = "positiv" | "neutral" | "negativ";
/** State of the analysis job. */
export type AnalysisStatus = "pending" | "done" | "failed";

/** The analysis of one call. */
export interface CallAnalysis {
  callId: string;
  accountId: string;
  status: AnalysisStatus;
  sentimentLabel: SentimentLabel | null;
  sentimentScore: number | null;
  confidence: number | null;
  reason: string | null;
  /** At most 8 bullet points. */
  summary: string[] | null;
  memoryUpdate: JsonObject | null;
  attempts: number;
  nextAttemptAt: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

/** What the analysis produced (input of {@linkcode completeAnalysis}). */
export interface AnalysisResult {
  sentimentLabel: SentimentLabel;
  /** -1 (negative) .. 1 (positive). */
  sentimentScore: number;
  /** 0 .. 1. */
  confidence: number;
  reason: string;
  summary: readonly string[];
  memoryUpdate?: JsonObject | null;
}

type AnalysisRow = Omit<CallAnalysis, "summary" | "memoryUpdate"> & {
  summary: string | null;
  memoryUpdate: string | null;
};

const COLUMNS = `call_id AS callId, account_id AS accountId, status, sentiment_label AS sentimentLabel,
  sentiment_score AS sentimentScore, confidence, reason, summary_json AS summary,
  memory_update_json AS memoryUpdate, attempts, next_attempt_at AS nextAttemptAt, last_error AS lastError,
  created_at AS createdAt, updated_at AS updatedAt`;
const LABELS: readonly SentimentLabel[] = ["positiv", "neutral", "negativ"];

// reason, summary and memory update are sealed at rest (crypto/sealed_fields.ts), bound to account and call.
const field = (column: string, accountId: string, callId: string) => ({
  table: "call_analysis",
  column,
  accountId,
  rowId: callId,
});

function toAnalysis(keyring: TranscriptKeyring, row: AnalysisRow): CallAnalysis {
  const open = (column: string, v: string | null) =>
    openNullable(keyring, field(column, row.accountId, row.callId), v);
  const summary = open("summary_json", row.summary);
  const memoryUpdate = open("memory_update_json", row.memoryUpdate);
  return {
    ...row,
    reason: open("reason", row.reason),
    summary: summary === null ? null : JSON.parse(summary) as string[],
    memoryUpdate: memoryUpdate === null ? null : parseJson(memoryUpdate),
  };
}

/** Queues the call for analysis; false if it is already queued. Throws if the call is not in this account. */
export function enqueueAnalysis(store: Store, accountId: string, callId: string, at = store.now()): boolean {
  const sql = `INSERT INTO call_analysis (call_id, account_id, created_at, updated_at)
    SELECT id, account_id, ?1, ?1 FROM calls WHERE account_id = ?2 AND id = ?3
    ON CONFLICT (call_id) DO NOTHING`;
  if (run(store.prepare(sql), at, accountId, callId) === 1) return true;
  if (!one(store.prepare("SELECT 1 FROM calls WHERE account_id = ? AND id = ?"), accountId, callId)) {
    throw new StoreNotFoundError(`Cannot queue analysis: no call ${callId} in account ${accountId}`);
  }
  return false;
}

/** Pending analyses whose next attempt is due, oldest first. */
export function listDueAnalyses(store: Store, accountId: string, now: number, limit = 10): CallAnalysis[] {
  const sql = `SELECT ${COLUMNS} FROM call_analysis WHERE account_id = ? AND status = 'pending'
    AND coalesce(next_attempt_at, 0) <= ? ORDER BY coalesce(next_attempt_at, 0), created_at LIMIT ?`;
  return many<AnalysisRow>(store.prepare(sql), accountId, now, Math.max(1, Math.trunc(limit))).map((r) =>
    toAnalysis(store.keyring, r)
  );
}

/** The call's analysis, or undefined. */
export function getAnalysis(store: Store, accountId: string, callId: string): CallAnalysis | undefined {
  const sql = `SELECT ${COLUMNS} FROM call_analysis WHERE account_id = ? AND call_id = ?`;
  const row = one<AnalysisRow>(store.prepare(sql), accountId, callId);
  return row && toAnalysis(store.keyring, row);
}

/** Stores the result and marks the job done; false if there is no such job in this account. */
export function completeAnalysis(
  store: Store,
  accountId: string,
  callId: string,
  result: AnalysisResult,
): boolean {
  const what = "Cannot complete analysis";
  const summary = result.summary;
  if (!Array.isArray(summary) || summary.length > 8 || summary.some((s) => typeof s !== "string")) {
    throw new TypeError(`${what}: summary must be at most 8 strings`);
  }
  const memory = result.memoryUpdate ? jsonText(what, "memoryUpdate", result.memoryUpdate) : null;
  const seal = (column: string, text: string) =>
    sealField(store.keyring, field(column, accountId, callId), text);
  const sql = `UPDATE call_analysis SET status = 'done', sentiment_label = ?, sentiment_score = ?,
    confidence = ?, reason = ?, summary_json = ?, memory_update_json = ?, attempts = attempts + 1,
    next_attempt_at = NULL, last_error = NULL, updated_at = ? WHERE account_id = ? AND call_id = ?`;
  return run(
    store.prepare(sql),
    requireOneOf(what, "sentimentLabel", result.sentimentLabel, LABELS),
    requireNumber(what, "sentimentScore", result.sentimentScore, -1, 1),
    requireNumber(what, "confidence", result.confidence, 0, 1),
    seal("reason", requireText(what, "reason", result.reason, 500)),
    seal("summary_json", JSON.stringify(summary)),
    memory === null ? null : seal("memory_update_json", memory),
    store.now(),
    accountId,
    callId,
  ) === 1;
}

/**
 * Records a failed attempt: retried at `retryAt`, or given up (status failed) when `retryAt` is null.
 * False if there is no pending job for this call in this account.
 */
export function failAnalysis(
  store: Store,
  accountId: string,
  callId: string,
  error: string,
  retryAt: number | null,
): boolean {
  const sql = `UPDATE call_analysis SET status = CASE WHEN ?1 IS NULL THEN 'failed' ELSE 'pending' END,
    next_attempt_at = ?1, attempts = attempts + 1, last_error = ?2, updated_at = ?3
    WHERE account_id = ?4 AND call_id = ?5 AND status = 'pending'`;
  return run(store.prepare(sql), retryAt, String(error).slice(0, 1000), store.now(), accountId, callId) === 1;
}
