/**
 * Migration 5 ("requests"): what callers asked the practice for (store/requests.ts). The personal fields
 * are one AES-256-GCM blob (`ciphertext`, `iv`, `key_id`, like transcripts), bound to the account and the
 * request id; kind, urgency, status, assignee, timestamps and the call stay plain for sorting and
 * filtering. The call is optional (staff may note a request themselves); deleting the call deletes its
 * requests, and erasing a person (GDPR Art. 17) deletes the requests of their calls by the trigger
 * `people_erase_requests`. A request is kept until done plus the retention period (retention job).
 */

/** SQL of migration 5 ("requests"). Released migrations are never edited. */
export const SQL_V5 = `
CREATE TABLE requests (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  call_id TEXT,
  kind TEXT NOT NULL CHECK (kind IN
    ('callback', 'appointment', 'prescription', 'message', 'question', 'emergency', 'other')),
  urgency TEXT NOT NULL CHECK (urgency IN ('normal', 'urgent')),
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in_progress', 'done')),
  source TEXT NOT NULL CHECK (source IN ('call', 'after_call', 'staff')),
  assignee_user_id TEXT,
  ciphertext BLOB NOT NULL,
  iv BLOB NOT NULL,
  key_id TEXT NOT NULL CHECK (length(key_id) > 0),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  done_at INTEGER,
  CHECK ((status = 'done') = (done_at IS NOT NULL)),
  FOREIGN KEY (account_id, call_id) REFERENCES calls (account_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX requests_account_status ON requests (account_id, status, created_at);
CREATE INDEX requests_call ON requests (account_id, call_id);

CREATE TRIGGER people_erase_requests BEFORE DELETE ON people
BEGIN
  DELETE FROM requests WHERE account_id = OLD.account_id
    AND call_id IN (SELECT id FROM calls WHERE person_id = OLD.id);
END;
`;
