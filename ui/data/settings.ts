// Per-account settings of the admin UI (rows in store/settings.ts), with the configuration as default and
// ceiling.
import type { Config } from "../../infra/mod.ts";
import type { Store } from "../../store/mod.ts";
import { getStoredSettings, saveSettings } from "../../store/mod.ts";

/** Settings as the pages and jobs use them. */
export interface AccountSettings {
  /** Retention for new people and for calls without a person, in days (1-365). */
  defaultRetentionDays: number;
  /** The account allows recordings (of people who consented). */
  recordingAllowed: boolean;
  /** Recordings are actually made: the appliance has recording on and the account allows it. */
  recordingEffective: boolean;
}

/** The account's settings. */
export function getSettings(store: Store, config: Config, accountId: string): AccountSettings {
  const stored = getStoredSettings(store, accountId);
  const recordingAllowed = stored.recordingAllowed ?? true;
  return {
    defaultRetentionDays: stored.defaultRetentionDays ?? config.retention.days,
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
  saveSettings(store, accountId, userId, patch);
}
