/**
 * Migration 3 ("admin_ui"): the admin UI's tables, which the UI used to create itself when it was mounted.
 * Every statement is `IF NOT EXISTS`, so a database that already has them from that older code path applies
 * this migration cleanly and keeps its rows; a new database gets them here. Same conventions as migration 1
 * (STRICT, TEXT ids, unix ms, account-scoped with cascading composite keys).
 *
 * - `ui_sessions`: login sessions; only the SHA-256 of the session id is stored.
 * - `ui_api_tokens`: API tokens for `/api` (Bearer); only their SHA-256 is stored.
 * - `ui_schedules`: scheduled companion calls (person, weekdays as a bit mask Mon=1..Sun=64, window).
 * - `ui_settings`: per-account settings (default retention, recording allowed).
 * - `ui_turn_metrics`: per-turn stage latencies and barge-ins of a call (no personal data).
 */

/** SQL of migration 3 ("admin_ui"). Released migrations are never edited. */
export const SQL_V3 = `
CREATE TABLE IF NOT EXISTS ui_sessions (
  id_hash TEXT PRIMARY KEY CHECK (length(id_hash) = 64),
  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS ui_sessions_expires ON ui_sessions (expires_at);
CREATE INDEX IF NOT EXISTS ui_sessions_user ON ui_sessions (account_id, user_id);

CREATE TABLE IF NOT EXISTS ui_api_tokens (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name TEXT NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 100),
  token_hash TEXT NOT NULL UNIQUE CHECK (length(token_hash) = 64),
  created_at INTEGER NOT NULL,
  last_used_at INTEGER
) STRICT;
CREATE INDEX IF NOT EXISTS ui_api_tokens_account ON ui_api_tokens (account_id, created_at);

CREATE TABLE IF NOT EXISTS ui_schedules (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL,
  person_id TEXT NOT NULL,
  weekdays INTEGER NOT NULL CHECK (weekdays BETWEEN 1 AND 127),
  window_start TEXT NOT NULL CHECK (window_start GLOB '[0-2][0-9]:[0-5][0-9]'),
  window_end TEXT NOT NULL CHECK (window_end GLOB '[0-2][0-9]:[0-5][0-9]'),
  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  CHECK (window_start < window_end),
  FOREIGN KEY (account_id, person_id) REFERENCES people (account_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX IF NOT EXISTS ui_schedules_account ON ui_schedules (account_id, person_id);

CREATE TABLE IF NOT EXISTS ui_settings (
  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  key TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 100),
  value_json TEXT NOT NULL CHECK (json_valid(value_json)),
  updated_at INTEGER NOT NULL,
  updated_by TEXT,
  PRIMARY KEY (account_id, key)
) STRICT, WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS ui_turn_metrics (
  account_id TEXT NOT NULL,
  call_id TEXT NOT NULL,
  turn_index INTEGER NOT NULL CHECK (turn_index >= 0),
  vad_ms INTEGER CHECK (vad_ms IS NULL OR vad_ms >= 0),
  stt_ms INTEGER CHECK (stt_ms IS NULL OR stt_ms >= 0),
  llm_first_token_ms INTEGER CHECK (llm_first_token_ms IS NULL OR llm_first_token_ms >= 0),
  tts_first_audio_ms INTEGER CHECK (tts_first_audio_ms IS NULL OR tts_first_audio_ms >= 0),
  total_ms INTEGER CHECK (total_ms IS NULL OR total_ms >= 0),
  barge_in INTEGER NOT NULL DEFAULT 0 CHECK (barge_in IN (0, 1)),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (call_id, turn_index),
  FOREIGN KEY (account_id, call_id) REFERENCES calls (account_id, id) ON DELETE CASCADE
) STRICT;
`;
