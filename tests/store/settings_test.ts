// Account settings (store/settings.ts): stored per account; absent keys and wrongly typed values read as unset.
import assert from "node:assert/strict";
import { accountAllowsRecording, getStoredSettings, saveSettings } from "../../store/mod.ts";
import { memoryStore, seedTwoTenants, T0 } from "./_helpers.ts";

Deno.test("settings are saved per account and read back; unset ones are absent", () => {
  const { store } = memoryStore();
  const { a, b } = seedTwoTenants(store);
  assert.deepEqual(getStoredSettings(store, a.account.id), {});
  assert.equal(accountAllowsRecording(store, a.account.id), true, "allowed until the account says no");
  saveSettings(store, a.account.id, null, { defaultRetentionDays: 14, recordingAllowed: false });
  assert.deepEqual(getStoredSettings(store, a.account.id), {
    defaultRetentionDays: 14,
    recordingAllowed: false,
  });
  assert.equal(accountAllowsRecording(store, a.account.id), false);
  assert.deepEqual(getStoredSettings(store, b.account.id), {}, "account B is not affected");
  saveSettings(store, a.account.id, null, { recordingAllowed: true });
  assert.deepEqual(getStoredSettings(store, a.account.id), {
    defaultRetentionDays: 14,
    recordingAllowed: true,
  });
  const row = store.prepare("SELECT updated_at AS at FROM ui_settings WHERE account_id = ? AND key = ?")
    .get(a.account.id, "recordingAllowed") as { at: number };
  assert.equal(row.at, T0);
  store.close();
});

Deno.test("a stored value of the wrong type reads as unset", () => {
  const { store } = memoryStore();
  const { a } = seedTwoTenants(store);
  store.prepare("INSERT INTO ui_settings (account_id, key, value_json, updated_at) VALUES (?, ?, ?, 0)")
    .run(a.account.id, "recordingAllowed", '"no"');
  assert.deepEqual(getStoredSettings(store, a.account.id), {});
  assert.equal(accountAllowsRecording(store, a.account.id), true);
  store.close();
});
