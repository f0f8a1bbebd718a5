/**
 * Migration 1: the initial schema (DESIGN.md "Data").
 *
 * Conventions: ids are TEXT uuids, timestamps INTEGER unix milliseconds, booleans INTEGER 0/1, JSON in
 * TEXT checked by json_valid(). Tables are STRICT, so a wrong type is an error, not a silent conversion.
 *
 * Tenancy: every table holding personal data carries `account_id`. Children of calls and people reference
 * them through the composite key (account_id, id), so a row can never point at another account's call or
 * person. `calls.person_id` uses ON DELETE SET NULL (a composite key would also null account_id), so a
 * trigger checks its account instead.
 *
 * Erasure (GDPR Art. 17): deleting a person deletes their memory (FK cascade) and, by the trigger
 * `people_erase_personal_data`, the transcripts and analyses of their calls and the recording path.
 * The call rows stay, anonymised (person_id NULL), for call counts and the bandit's statistics.
 *
 * Global tables: `variants` and `bandit_state` hold conversation policies and their Beta posteriors,
 * aggregated over all calls of all accounts; they contain no personal data, so they have no account_id.
 * `nonces` are single-use JWT nonces of the gateway, checked before any account is known.
 */
export const SQL_V1 = `
CREATE TABLE store_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
-- Per-installation salt for phone_hash (lookups and logs never need the number itself).
INSERT INTO store_meta (key, value) VALUES ('phone_hash_salt', lower(hex(randomblob(32))));

CREATE TABLE accounts (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 200),
  kind TEXT NOT NULL CHECK (kind IN ('private', 'clinical')),
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  email TEXT NOT NULL CHECK (email = lower(email) AND email LIKE '_%@_%'),
  display_name TEXT NOT NULL CHECK (length(trim(display_name)) BETWEEN 1 AND 200),
  role TEXT NOT NULL CHECK (role IN ('admin', 'staff')),
  password_hash TEXT NOT NULL CHECK (length(password_hash) > 0),
  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  created_at INTEGER NOT NULL,
  UNIQUE (account_id, email)
) STRICT;

CREATE TABLE people (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('senior', 'patient')),
  display_name TEXT NOT NULL CHECK (length(trim(display_name)) BETWEEN 1 AND 200),
  phone_e164 TEXT NOT NULL CHECK (
    phone_e164 GLOB '+[1-9]*' AND phone_e164 NOT GLOB '+*[^0-9]*' AND length(phone_e164) BETWEEN 8 AND 16
  ),
  phone_hash TEXT NOT NULL CHECK (length(phone_hash) = 64),
  language TEXT NOT NULL DEFAULT 'de' CHECK (length(language) BETWEEN 2 AND 8),
  consent_recording INTEGER NOT NULL DEFAULT 0 CHECK (consent_recording IN (0, 1)),
  consent_transcript INTEGER NOT NULL DEFAULT 0 CHECK (consent_transcript IN (0, 1)),
  retention_days INTEGER NOT NULL DEFAULT 30 CHECK (retention_days BETWEEN 1 AND 365),
  notes TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (account_id, phone_e164),
  UNIQUE (account_id, id)
) STRICT;
CREATE INDEX people_phone_hash ON people (account_id, phone_hash);
CREATE INDEX people_list ON people (account_id, kind, display_name);

CREATE TABLE variants (
  id TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
  name TEXT NOT NULL UNIQUE CHECK (length(trim(name)) BETWEEN 1 AND 200),
  slots_json TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(slots_json) AND json_type(slots_json) = 'object'),
  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  blacklisted INTEGER NOT NULL DEFAULT 0 CHECK (blacklisted IN (0, 1)),
  blacklisted_at INTEGER,
  blacklist_reason TEXT,
  created_at INTEGER NOT NULL,
  CHECK ((blacklisted = 1) = (blacklisted_at IS NOT NULL))
) STRICT;

CREATE TABLE bandit_state (
  context TEXT NOT NULL CHECK (length(context) BETWEEN 1 AND 200),
  variant_id TEXT NOT NULL REFERENCES variants (id) ON DELETE CASCADE,
  alpha REAL NOT NULL CHECK (alpha > 0),
  beta REAL NOT NULL CHECK (beta > 0),
  pulls INTEGER NOT NULL DEFAULT 0 CHECK (pulls >= 0),
  reward_sum REAL NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (context, variant_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX bandit_state_variant ON bandit_state (variant_id);

CREATE TABLE calls (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  person_id TEXT REFERENCES people (id) ON DELETE SET NULL,
  direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
  transport TEXT NOT NULL
    CHECK (transport IN ('browser', 'freeswitch', 'twilio', 'audiosocket', 'chan_websocket')),
  external_id TEXT,
  status TEXT NOT NULL DEFAULT 'ringing'
    CHECK (status IN ('ringing', 'active', 'completed', 'failed', 'busy', 'no_answer')),
  failure_reason TEXT,
  started_at INTEGER NOT NULL,
  answered_at INTEGER CHECK (answered_at IS NULL OR answered_at >= started_at),
  ended_at INTEGER CHECK (ended_at IS NULL OR ended_at >= started_at),
  duration_ms INTEGER CHECK (duration_ms IS NULL OR duration_ms >= 0),
  policy_variant_id TEXT REFERENCES variants (id) ON DELETE SET NULL,
  bandit_context TEXT,
  recorded INTEGER NOT NULL DEFAULT 0 CHECK (recorded IN (0, 1)),
  recording_path TEXT CHECK (recording_path IS NULL OR recorded = 1),
  CHECK ((status IN ('ringing', 'active')) = (ended_at IS NULL)),
  UNIQUE (account_id, id)
) STRICT;
CREATE INDEX calls_account_started ON calls (account_id, started_at);
CREATE INDEX calls_person ON calls (person_id, started_at);
CREATE INDEX calls_variant ON calls (policy_variant_id);
CREATE UNIQUE INDEX calls_external ON calls (account_id, transport, external_id) WHERE external_id IS NOT NULL;

CREATE TRIGGER calls_person_same_account_insert BEFORE INSERT ON calls
WHEN NEW.person_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM people WHERE id = NEW.person_id AND account_id = NEW.account_id)
BEGIN
  SELECT RAISE(ABORT, 'calls.person_id must name a person of the same account');
END;
CREATE TRIGGER calls_person_same_account_update BEFORE UPDATE OF person_id, account_id ON calls
WHEN NEW.person_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM people WHERE id = NEW.person_id AND account_id = NEW.account_id)
BEGIN
  SELECT RAISE(ABORT, 'calls.person_id must name a person of the same account');
END;

-- Only ciphertext is stored (AES-256-GCM: iv + key_id name how to decrypt); only with consent.
CREATE TABLE transcripts (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL,
  call_id TEXT NOT NULL,
  turn_index INTEGER NOT NULL CHECK (turn_index >= 0),
  speaker TEXT NOT NULL CHECK (speaker IN ('caller', 'assistant')),
  ciphertext BLOB NOT NULL,
  iv BLOB NOT NULL,
  key_id TEXT NOT NULL CHECK (length(key_id) > 0),
  interrupted INTEGER NOT NULL DEFAULT 0 CHECK (interrupted IN (0, 1)),
  created_at INTEGER NOT NULL,
  FOREIGN KEY (account_id, call_id) REFERENCES calls (account_id, id) ON DELETE CASCADE,
  UNIQUE (call_id, turn_index)
) STRICT;

CREATE TABLE call_analysis (
  call_id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
  sentiment_label TEXT CHECK (sentiment_label IN ('positiv', 'neutral', 'negativ')),
  sentiment_score REAL CHECK (sentiment_score BETWEEN -1 AND 1),
  confidence REAL CHECK (confidence BETWEEN 0 AND 1),
  reason TEXT,
  summary_json TEXT CHECK (summary_json IS NULL OR json_valid(summary_json)),
  memory_update_json TEXT CHECK (memory_update_json IS NULL OR json_valid(memory_update_json)),
  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at INTEGER,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  CHECK (status <> 'done' OR (sentiment_label IS NOT NULL AND sentiment_score IS NOT NULL)),
  FOREIGN KEY (account_id, call_id) REFERENCES calls (account_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX call_analysis_due ON call_analysis (account_id, status, next_attempt_at);

CREATE TABLE memory_state (
  person_id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL,
  memory_json TEXT NOT NULL DEFAULT '{}'
    CHECK (json_valid(memory_json) AND json_type(memory_json) = 'object'),
  version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
  updated_at INTEGER NOT NULL,
  FOREIGN KEY (account_id, person_id) REFERENCES people (account_id, id) ON DELETE CASCADE
) STRICT;

CREATE TABLE feedback (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL,
  call_id TEXT NOT NULL UNIQUE,
  rating INTEGER CHECK (rating BETWEEN 1 AND 5),
  source TEXT NOT NULL CHECK (source IN ('voice', 'dtmf')),
  created_at INTEGER NOT NULL,
  FOREIGN KEY (account_id, call_id) REFERENCES calls (account_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX feedback_account_created ON feedback (account_id, created_at);

CREATE TABLE nonces (
  nonce TEXT PRIMARY KEY CHECK (length(nonce) BETWEEN 1 AND 200),
  call_id TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX nonces_expires ON nonces (expires_at);

-- Who saw or changed whose personal data. No FK on actor_user_id: the log outlives the user.
CREATE TABLE audit_log (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  actor_user_id TEXT,
  action TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 100),
  subject_type TEXT NOT NULL CHECK (length(subject_type) BETWEEN 1 AND 100),
  subject_id TEXT,
  detail_json TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(detail_json)),
  at INTEGER NOT NULL
) STRICT;
CREATE INDEX audit_log_account_at ON audit_log (account_id, at);
CREATE INDEX audit_log_subject ON audit_log (account_id, subject_type, subject_id, at);
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
BEGIN
  SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER people_erase_personal_data BEFORE DELETE ON people
BEGIN
  DELETE FROM transcripts WHERE call_id IN (SELECT id FROM calls WHERE person_id = OLD.id);
  DELETE FROM call_analysis WHERE call_id IN (SELECT id FROM calls WHERE person_id = OLD.id);
  UPDATE calls SET recording_path = NULL WHERE person_id = OLD.id AND recording_path IS NOT NULL;
END;
`;
