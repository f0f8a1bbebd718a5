// Retention: each person's retention_days bounds how long their calls' personal data is kept, and
// recordings are kept at most `retention.recordingHours` (purgeExpiredRecordings).
import type { Store } from "./db.ts";
import { many, requireInt, run } from "./_util.ts";

/** What {@linkcode purgeExpiredCallData} removed; the caller deletes the recording files. */
export interface RetentionResult {
  transcriptTurns: number;
  analyses: number;
  recordingPaths: string[];
}

const DAY_MS = 86_400_000;

// Calls whose personal data is past retention: the person's retention_days, or the default for calls
// without a (known or still existing) person.
const EXPIRED = `SELECT c.id FROM calls c
  LEFT JOIN people p ON p.id = c.person_id AND p.account_id = c.account_id
  WHERE c.account_id = ?1 AND c.started_at < ?2 - coalesce(p.retention_days, ?3) * ${DAY_MS}`;

/**
 * Deletes the transcripts, analyses and recording paths of the account's calls that are older than
 * their person's retention_days (`defaultRetentionDays`, default 30, for calls without a person). The call
 * rows stay as anonymous metadata. Run it daily per account.
 */
export function purgeExpiredCallData(
  store: Store,
  accountId: string,
  now: number,
  opts: { defaultRetentionDays?: number } = {},
): RetentionResult {
  const days = requireInt("Cannot purge", "defaultRetentionDays", opts.defaultRetentionDays ?? 30, 1, 365);
  return store.transaction(() => {
    const recordings = many<{ recording_path: string }>(
      store.prepare(`SELECT recording_path FROM calls WHERE account_id = ?1 AND recording_path IS NOT NULL
        AND id IN (${EXPIRED})`),
      accountId,
      now,
      days,
    );
    const transcriptTurns = run(
      store.prepare(`DELETE FROM transcripts WHERE account_id = ?1 AND call_id IN (${EXPIRED})`),
      accountId,
      now,
      days,
    );
    const analyses = run(
      store.prepare(`DELETE FROM call_analysis WHERE account_id = ?1 AND call_id IN (${EXPIRED})`),
      accountId,
      now,
      days,
    );
    run(
      store.prepare(
        `UPDATE calls SET recording_path = NULL WHERE account_id = ?1 AND recording_path IS NOT NULL
        AND id IN (${EXPIRED})`,
      ),
      accountId,
      now,
      days,
    );
    return { transcriptTurns, analyses, recordingPaths: recordings.map((r) => r.recording_path) };
  });
}

const HOUR_MS = 3_600_000;

/**
 * Forgets the recordings of the account's calls that ended (or, never ended, started) more than
 * `recordingHours` ago (default 24, the configuration's `retention.recordingHours`): the call rows lose
 * their recording path and keep `recorded`. Returns the paths (relative to `<dataDir>/recordings`) whose
 * files the caller deletes. Run it at least hourly so a recording outlives its hours by at most one.
 *
 * @throws {RangeError} when `recordingHours` is not an integer from 1 to 8760
 */
export function purgeExpiredRecordings(
  store: Store,
  accountId: string,
  now: number,
  opts: { recordingHours?: number } = {},
): string[] {
  const hours = requireInt(
    "Cannot purge recordings",
    "recordingHours",
    opts.recordingHours ?? 24,
    1,
    24 * 365,
  );
  const cutoff = now - hours * HOUR_MS;
  const where = `account_id = ?1 AND recording_path IS NOT NULL AND coalesce(ended_at, started_at) < ?2`;
  return store.transaction(() => {
    const rows = many<{ recording_path: string }>(
      store.prepare(`SELECT recording_path FROM calls WHERE ${where}`),
      accountId,
      cutoff,
    );
    run(store.prepare(`UPDATE calls SET recording_path = NULL WHERE ${where}`), accountId, cutoff);
    return rows.map((r) => r.recording_path);
  });
}
