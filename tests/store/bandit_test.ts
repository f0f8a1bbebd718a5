import assert from "node:assert/strict";
import {
  applyReward,
  blacklistVariant,
  clearBlacklist,
  getVariant,
  listArms,
  listVariants,
  setVariantEnabled,
  StoreNotFoundError,
  upsertVariant,
} from "../../store/mod.ts";
import { memoryStore, T0 } from "./_helpers.ts";

Deno.test("variants are upserted, disabled and blacklisted; active ones are listed", () => {
  const { store } = memoryStore();
  upsertVariant(store, { id: "v1a", name: "Base", slots: { greeting: "Guten Tag" } });
  upsertVariant(store, { id: "v1b", name: "Warm" });
  upsertVariant(store, { id: "v1c", name: "Short" });
  assert.equal(blacklistVariant(store, "v1b", "reward mean -0.3 after 25 pulls", T0 + 5), true);
  assert.equal(blacklistVariant(store, "v1b", "again"), false);
  assert.equal(setVariantEnabled(store, "v1c", false), true);
  assert.deepEqual(listVariants(store, { activeOnly: true }).map((v) => v.id), ["v1a"]);
  assert.equal(listVariants(store).length, 3);
  // Updating keeps the blacklist state.
  const updated = upsertVariant(store, { id: "v1b", name: "Warmer", slots: { tone: "herzlich" } });
  assert.equal(updated.blacklisted, true);
  assert.equal(updated.blacklistedAt, T0 + 5);
  assert.deepEqual(updated.slots, { tone: "herzlich" });
  assert.equal(clearBlacklist(store, "v1b"), true);
  assert.equal(getVariant(store, "v1b")?.blacklistReason, null);
  store.close();
});

Deno.test("rewards add up atomically per (context, variant) from a Beta(1, 1) prior", () => {
  const { store } = memoryStore();
  upsertVariant(store, { id: "v1a", name: "Base" });
  applyReward(store, "kfz:morning", "v1a", { alphaDelta: 1, betaDelta: 0, reward: 1 });
  applyReward(store, "kfz:morning", "v1a", { alphaDelta: 0.25, betaDelta: 0.75, reward: -0.5 });
  const arm = applyReward(store, "kfz:evening", "v1a", { alphaDelta: 0, betaDelta: 1, reward: -1 }, {
    alpha: 2,
    beta: 2,
  });
  assert.deepEqual(arm, {
    context: "kfz:evening",
    variantId: "v1a",
    alpha: 2,
    beta: 3,
    pulls: 1,
    rewardSum: -1,
    updatedAt: T0,
  });
  assert.deepEqual(listArms(store, "kfz:morning"), [{
    context: "kfz:morning",
    variantId: "v1a",
    alpha: 2.25,
    beta: 1.75,
    pulls: 2,
    rewardSum: 0.5,
    updatedAt: T0,
  }]);
  assert.throws(
    () => applyReward(store, "x", "v-none", { alphaDelta: 1, betaDelta: 0, reward: 1 }),
    StoreNotFoundError,
  );
  assert.throws(
    () => applyReward(store, "x", "v1a", { alphaDelta: -1, betaDelta: 0, reward: 1 }),
    /alphaDelta/,
  );
  assert.throws(() => applyReward(store, "x", "v1a", { alphaDelta: 1, betaDelta: 0, reward: 2 }), /reward/);
  store.close();
});
