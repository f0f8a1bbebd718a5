// Dashboard aggregates over calls and their analyses (counts, durations, sentiment).
import type { Store } from "./db.ts";
import { many, one } from "./_util.ts";

/** Aggregates for a dashboard. */
export interface CallStats {
  total: number;
  completed: number;
  avgDurationMs: number | null;
  avgSentimentScore: number | null;
}

/** One day of {@linkcode sentimentTrend} (UTC). */
export interface SentimentDay {
  day: string;
  avgScore: number;
  calls: number;
}

/** Counts and averages over the account's calls since a time (optionally of one person). */
export function callStats(
  store: Store,
  accountId: string,
  opts: { since?: number; personId?: string } = {},
): CallStats {
  const sql = `SELECT count(*) AS total, coalesce(sum(c.status = 'completed'), 0) AS completed,
    avg(c.duration_ms) AS avgDurationMs, avg(a.sentiment_score) AS avgSentimentScore
    FROM calls c LEFT JOIN call_analysis a ON a.call_id = c.id AND a.account_id = c.account_id
    WHERE c.account_id = ?1 AND c.started_at >= ?2 AND (?3 IS NULL OR c.person_id = ?3)`;
  return one<CallStats>(store.prepare(sql), accountId, opts.since ?? 0, opts.personId ?? null) as CallStats;
}

/** Average sentiment per UTC day of the account's calls since a time (optionally of one person). */
export function sentimentTrend(
  store: Store,
  accountId: string,
  opts: { since: number; personId?: string },
): SentimentDay[] {
  const sql = `SELECT strftime('%Y-%m-%d', c.started_at / 1000, 'unixepoch') AS day,
      avg(a.sentiment_score) AS avgScore, count(*) AS calls
    FROM calls c JOIN call_analysis a ON a.call_id = c.id AND a.account_id = c.account_id
    WHERE c.account_id = ?1 AND c.started_at >= ?2 AND (?3 IS NULL OR c.person_id = ?3) AND a.status = 'done'
    GROUP BY day ORDER BY day`;
  return many<SentimentDay>(store.prepare(sql), accountId, opts.since, opts.personId ?? null);
}

/** One analysed call's sentiment, for charts that group by local day (see {@linkcode sentimentScores}). */
export interface SentimentScore {
  /** When the call started (unix ms). */
  at: number;
  score: number;
}

/** The sentiment of each analysed call of the account since a time (optionally of one person). */
export function sentimentScores(
  store: Store,
  accountId: string,
  opts: { since: number; personId?: string },
): SentimentScore[] {
  const sql = `SELECT c.started_at AS at, a.sentiment_score AS score FROM calls c
    JOIN call_analysis a ON a.call_id = c.id AND a.account_id = c.account_id
    WHERE c.account_id = ?1 AND c.started_at >= ?2 AND (?3 IS NULL OR c.person_id = ?3) AND a.status = 'done'`;
  return many<SentimentScore>(store.prepare(sql), accountId, opts.since, opts.personId ?? null);
}
