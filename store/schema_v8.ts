/**
 * Migration 8 ("people_sealed"): a person's name and number are sealed at rest, like their notes.
 *
 * `people` is rebuilt the SQLite way (new table, copy, drop, rename; the migration runs with foreign keys
 * off, see {@linkcode Migration.foreignKeysOff}, so dropping the old table cascades nothing and the tables
 * pointing at `people` by name keep pointing at the new one):
 * - `display_name` and `phone_e164` hold a sealed envelope (store/crypto/sealed_fields.ts, bound to table,
 *   column, account and person). SQL cannot encrypt, so rows copied here are still plain; the start-up step
 *   that seals every plain personal column (`rekeyFields`, run by `rekeyTranscripts` at every start of
 *   the server) seals them with the configured key. Until then a plain value still has to pass the old
 *   checks; an envelope has to be valid JSON.
 * - a number is unique per account by `phone_hash` (the keyed hash lookups use), not by the number, whose
 *   envelope differs on every write. The unique index also serves findPersonByPhone, so the separate
 *   `people_phone_hash` index goes; `people_list` (by name) goes too: names are sorted after decryption.
 * - the rename runs with `legacy_alter_table` on: between drop and rename the triggers of `calls` name a
 *   table that is briefly missing, which the modern rename would refuse to re-parse.
 * - the old table's pages are zeroed as they are freed: the store runs with `secure_delete = ON` (db.ts).
 * - the BEFORE DELETE triggers of erasure (`people_erase_personal_data`, `people_erase_requests`) belong to
 *   the dropped table and are created again unchanged.
 */

const SEALED = `LIKE '{"tomseal":1,%'`;

/** SQL of migration 8 ("people_sealed"). Released migrations are never edited. */
export const SQL_V8 = `
CREATE TABLE people_v8 (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('senior', 'patient')),
  display_name TEXT NOT NULL CONSTRAINT display_name_shape CHECK (
    (display_name ${SEALED} AND json_valid(display_name)) OR length(trim(display_name)) BETWEEN 1 AND 200
  ),
  phone_e164 TEXT NOT NULL CONSTRAINT phone_e164_shape CHECK (
    (phone_e164 ${SEALED} AND json_valid(phone_e164)) OR (phone_e164 GLOB '+[1-9]*'
      AND phone_e164 NOT GLOB '+*[^0-9]*' AND length(phone_e164) BETWEEN 8 AND 16)
  ),
  phone_hash TEXT NOT NULL CHECK (length(phone_hash) = 64),
  language TEXT NOT NULL DEFAULT 'de' CHECK (length(language) BETWEEN 2 AND 8),
  consent_recording INTEGER NOT NULL DEFAULT 0 CHECK (consent_recording IN (0, 1)),
  consent_transcript INTEGER NOT NULL DEFAULT 0 CHECK (consent_transcript IN (0, 1)),
  retention_days INTEGER NOT NULL DEFAULT 30 CHECK (retention_days BETWEEN 1 AND 365),
  notes TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE (account_id, phone_hash),
  UNIQUE (account_id, id)
) STRICT;
INSERT INTO people_v8 (id, account_id, kind, display_name, phone_e164, phone_hash, language,
  consent_recording, consent_transcript, retention_days, notes, created_at, updated_at)
SELECT id, account_id, kind, display_name, phone_e164, phone_hash, language, consent_recording,
  consent_transcript, retention_days, notes, created_at, updated_at FROM people;
DROP TABLE people;
PRAGMA legacy_alter_table = ON;
ALTER TABLE people_v8 RENAME TO people;
PRAGMA legacy_alter_table = OFF;
CREATE INDEX people_kind ON people (account_id, kind);

CREATE TRIGGER people_erase_personal_data BEFORE DELETE ON people
BEGIN
  DELETE FROM transcripts WHERE call_id IN (SELECT id FROM calls WHERE person_id = OLD.id);
  DELETE FROM call_analysis WHERE call_id IN (SELECT id FROM calls WHERE person_id = OLD.id);
  UPDATE calls SET recording_path = NULL WHERE person_id = OLD.id AND recording_path IS NOT NULL;
END;

CREATE TRIGGER people_erase_requests BEFORE DELETE ON people
BEGIN
  DELETE FROM requests WHERE account_id = OLD.account_id
    AND call_id IN (SELECT id FROM calls WHERE person_id = OLD.id);
END;
`;
