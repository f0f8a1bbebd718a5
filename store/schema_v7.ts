/**
 * Migration 7 ("caller_identity"): how far TOM may trust who is on the line (issue 15, item 1).
 *
 * - `calls.identity`: the call's identity level: 'unknown' (no person), 'number_match' (the inbound caller
 *   ID matched a person: not proof, caller ID can be spoofed), 'placed' (TOM called the person's number),
 *   'verified' (the caller passed the practice's check). Existing calls get 'unknown': nothing of an old
 *   call counts as proven (a pending analysis of one is stored but not merged into memory).
 * - `caller_checks`: the check a practice (account) chose for callers whose number matches: none, date of
 *   birth (spoken or keyed TTMMJJJJ) or a PIN keyed as DTMF, and how many attempts a call gets.
 * - `person_identity`: what the check compares with, per person: the date of birth sealed with the
 *   keyring (store/crypto/sealed_fields.ts, bound to account and person), the PIN as a salted scrypt hash
 *   (never in clear). Deleted with the person (erasure).
 */

/** SQL of migration 8 ("caller_identity"). Released migrations are never edited. */
export const SQL_V7 = `
ALTER TABLE calls ADD COLUMN identity TEXT NOT NULL DEFAULT 'unknown'
  CHECK (identity IN ('unknown', 'number_match', 'placed', 'verified'));

CREATE TABLE caller_checks (
  account_id TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
  method TEXT NOT NULL CHECK (method IN ('none', 'birth_date', 'pin')),
  max_attempts INTEGER NOT NULL DEFAULT 3 CHECK (max_attempts BETWEEN 1 AND 5),
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE person_identity (
  person_id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL,
  birth_date_sealed TEXT CHECK (birth_date_sealed IS NULL OR json_valid(birth_date_sealed)),
  pin_hash TEXT CHECK (pin_hash IS NULL OR pin_hash GLOB 'scrypt$*'),
  updated_at INTEGER NOT NULL,
  FOREIGN KEY (account_id, person_id) REFERENCES people (account_id, id) ON DELETE CASCADE
) STRICT;
`;
