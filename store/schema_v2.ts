// Schema version 2: the learning loop's per-call rewards (with their components, for the admin UI) and
// the deploy guard's decision log (blacklist, re-enable), which must outlive the process log.

/** SQL of migration 2 ("learning"). Released migrations are never edited. */
export const SQL_V2 = `
CREATE TABLE rewards (
  account_id TEXT NOT NULL,
  call_id TEXT NOT NULL,
  variant_id TEXT REFERENCES variants (id) ON DELETE SET NULL,
  context TEXT CHECK (context IS NULL OR length(context) BETWEEN 1 AND 64),
  reward REAL NOT NULL CHECK (reward BETWEEN -1 AND 1),
  components_json TEXT NOT NULL CHECK (json_valid(components_json)),
  missing_json TEXT NOT NULL CHECK (json_valid(missing_json)),
  rating REAL CHECK (rating IS NULL OR rating BETWEEN 1 AND 5),
  source TEXT NOT NULL CHECK (source IN ('voice', 'dtmf', 'none')),
  applied INTEGER NOT NULL CHECK (applied IN (0, 1)),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, call_id),
  FOREIGN KEY (account_id, call_id) REFERENCES calls (account_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX rewards_account_created ON rewards (account_id, created_at);
CREATE INDEX rewards_variant ON rewards (variant_id, created_at);

-- Global like variants and bandit_state: no personal data, only variant ids, reasons and the acting user.
CREATE TABLE rl_decisions (
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('blacklist', 'reenable', 'disable', 'enable')),
  variant_id TEXT NOT NULL,
  context TEXT,
  reason TEXT NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  actor TEXT NOT NULL CHECK (length(actor) BETWEEN 1 AND 200)
) STRICT;
CREATE INDEX rl_decisions_created ON rl_decisions (created_at);
`;
