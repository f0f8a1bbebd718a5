/**
 * Migration 4 ("practice"): the practice knowledge of each account (store/practice.ts), one validated JSON
 * document per account with who changed it when. Practice knowledge is not health data, so it is plain
 * JSON; it is deleted with its account. Same conventions as the earlier migrations (STRICT, TEXT ids,
 * unix ms).
 */

/** SQL of migration 4 ("practice"). Released migrations are never edited. */
export const SQL_V4 = `
CREATE TABLE practice (
  account_id TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
  doc_json TEXT NOT NULL CHECK (json_valid(doc_json) AND length(doc_json) <= 262144),
  updated_at INTEGER NOT NULL,
  updated_by TEXT
) STRICT;
`;
