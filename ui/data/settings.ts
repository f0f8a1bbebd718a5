// Per-account settings of the admin UI (ui_settings), with the configuration as default and ceiling.
import type { Config } from "../../infra/mod.ts";
import type { Store } from "../../store/mod.ts";

/** Settings as the pages and jobs use them. */
export interface AccountSettings {
  /** Retention for new people and for calls without a person, in days (1-365). */
  defaultRetentionDays: number;
  /** The account allows recordings (of people who consented). */
  recordingAllowed: boolean;
  /** Recordings are actually made: the appliance has recording on and the account allows it. */
  recordingEffective: boolean;
}

function read(store: Store, accountId: string, key: string): unknown {
  const row = store.prepare("SELECT value_json FROM ui_settings WHERE account_id = ? AND key = ?").get(
    accountId,
    key,
  ) as { value_json: string } | undefined;
  return row ? JSON.parse(row.value_json) : undefined;
}

/** The account's settings. */
export function getSettings(store: Store, config: Config, accountId: string): AccountSettings {
  const days = read(store, accountId, "defaultRetentionDays");
  const allowed = read(store, accountId, "recordingAllowed");
  const recordingAllowed = typeof allowed === "boolean" ? allowed : true;
  return {
    defaultRetentionDays: typeof days === "number" ? days : config.retention.days,
    recordingAllowed,
    recordingEffective: config.recording.enabled && recordingAllowed,
  };
}

/**
 * Change the account's settings.
 *
 * @throws {RangeError} when the retention is outside 1..365.
 */
export function setSettings(
  store: Store,
  accountId: string,
  userId: string | null,
  patch: { defaultRetentionDays?: number; recordingAllowed?: boolean },
): void {
  if (
    patch.defaultRetentionDays !== undefined &&
    (!Number.isInteger(patch.defaultRetentionDays) || patch.defaultRetentionDays < 1 ||
      patch.defaultRetentionDays > 365)
  ) {
    throw new RangeError("Cannot save settings: defaultRetentionDays must be an integer from 1 to 365");
  }
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
