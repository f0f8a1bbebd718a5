// Per-account settings of the admin UI (ui_settings): one JSON value per key, with who changed it when.
import type { Store } from "./db.ts";
import { many } from "./_util.ts";

/**
 * What an account has set. A key it never set is absent (the caller supplies the default), and so is a
 * stored value of the wrong type.
 */
export interface StoredSettings {
  /** Retention for new people and for calls without a person, in days. */
  defaultRetentionDays?: number;
  /** The account allows recordings (of people who consented). */
  recordingAllowed?: boolean;
}

/** The account's stored settings. */
export function getStoredSettings(store: Store, accountId: string): StoredSettings {
  const rows = many<{ key: string; value_json: string }>(
    store.prepare(
      "SELECT key, value_json FROM ui_settings WHERE account_id = ? AND key IN ('defaultRetentionDays', 'recordingAllowed')",
    ),
    accountId,
  );
  const values = new Map(rows.map((r) => [r.key, JSON.parse(r.value_json) as unknown]));
  const days = values.get("defaultRetentionDays");
  const allowed = values.get("recordingAllowed");
  const out: StoredSettings = {};
  if (typeof days === "number") out.defaultRetentionDays = days;
  if (typeof allowed === "boolean") out.recordingAllowed = allowed;
  return out;
}

/** Whether the account allows recordings: its setting, allowed when it never set one. */
export function accountAllowsRecording(store: Store, accountId: string): boolean {
  return getStoredSettings(store, accountId).recordingAllowed ?? true;
}

/** Store the given settings of the account in one transaction (keys left undefined are not touched). */
export function saveSettings(
  store: Store,
  accountId: string,
  userId: string | null,
  patch: StoredSettings,
): void {
  const stmt = store.prepare(
    `INSERT INTO ui_settings (account_id, key, value_json, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (account_id, key) DO UPDATE SET value_json = excluded.value_json,
       updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
  );
  store.transaction(() => {
    for (const [k, v] of Object.entries(patch)) {
      if (v !== undefined) stmt.run(accountId, k, JSON.stringify(v), store.now(), userId);
    }
  });
}
