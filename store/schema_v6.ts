/**
 * Migration 6 ("admin_levels"): two administrator levels, a decision log per account, API tokens with a scope
 * and an expiry.
 *
 * - `users.appliance_admin`: the appliance administrator (box-wide: keys, conversation strategies, accounts,
 *   engines, egress) is a user with role 'admin' and this flag; every other admin administers only their
 *   account. An existing database gets one: the earliest administrator of the first account (the one
 *   first-run setup created). A trigger keeps the flag on administrators only.
 * - `rl_decisions.account_id`: the account whose user decided (NULL: the deploy guard, box-level). Existing
 *   rows are attributed to the acting user's account; a human actor that is no user id (the command line)
 *   to the appliance administrator's account, so no reason text becomes visible to every account.
 * - `ui_api_tokens.scope` ('read', 'requests', 'full') and `expires_at` (unix ms). Existing tokens keep
 *   'full' and expire 90 days after this migration.
 */

/** SQL of migration 7 ("admin_levels"). Released migrations are never edited. */
export const SQL_V6 = `
ALTER TABLE users ADD COLUMN appliance_admin INTEGER NOT NULL DEFAULT 0 CHECK (appliance_admin IN (0, 1));
UPDATE users SET appliance_admin = 1 WHERE id = (
  SELECT u.id FROM users u JOIN accounts a ON a.id = u.account_id WHERE u.role = 'admin'
  ORDER BY a.created_at, a.rowid, u.created_at, u.rowid LIMIT 1
);
CREATE TRIGGER users_appliance_admin_insert BEFORE INSERT ON users
WHEN NEW.appliance_admin = 1 AND NEW.role <> 'admin'
BEGIN SELECT RAISE(ABORT, 'the appliance administrator must have the role admin'); END;
CREATE TRIGGER users_appliance_admin_update BEFORE UPDATE OF appliance_admin, role ON users
WHEN NEW.appliance_admin = 1 AND NEW.role <> 'admin'
BEGIN SELECT RAISE(ABORT, 'the appliance administrator must have the role admin'); END;

ALTER TABLE rl_decisions ADD COLUMN account_id TEXT;
UPDATE rl_decisions SET account_id = COALESCE(
  (SELECT u.account_id FROM users u WHERE u.id = rl_decisions.actor),
  CASE WHEN actor = 'guard' THEN NULL
    ELSE (SELECT u.account_id FROM users u WHERE u.appliance_admin = 1 LIMIT 1) END
);
CREATE INDEX rl_decisions_account ON rl_decisions (account_id, created_at);

ALTER TABLE ui_api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'full'
  CHECK (scope IN ('read', 'requests', 'full'));
ALTER TABLE ui_api_tokens ADD COLUMN expires_at INTEGER;
UPDATE ui_api_tokens
  SET expires_at = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) + 90 * 86400000;
`;
