import assert from "node:assert/strict";
import {
  adminDisabledVariants,
  appendRlDecision,
  applyReward,
  blacklistVariant,
  clearBlacklist,
  createAccount,
  createCall,
  getVariant,
  listAllArms,
  listArms,
  listVariants,
  recentPolicySelections,
  setCallPolicy,
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

Deno.test("listAllArms lists every context's arms by context and variant", () => {
  const { store } = memoryStore();
  upsertVariant(store, { id: "v1a", name: "Base" });
  upsertVariant(store, { id: "v1b", name: "Other" });
  applyReward(store, "b", "v1b", { alphaDelta: 1, betaDelta: 0, reward: 1 });
  applyReward(store, "b", "v1a", { alphaDelta: 1, betaDelta: 0, reward: 1 });
  applyReward(store, "a", "v1b", { alphaDelta: 0, betaDelta: 1, reward: -1 });
  assert.deepEqual(listAllArms(store).map((r) => [r.context, r.variantId]), [["a", "v1b"], ["b", "v1a"], [
    "b",
    "v1b",
  ]]);
  store.close();
});

Deno.test("recentPolicySelections reads a context's chosen variants over every account, newest first", () => {
  const { store, clock } = memoryStore();
  upsertVariant(store, { id: "v1a", name: "Base" });
  upsertVariant(store, { id: "v1b", name: "Other" });
  const pick = (accountId: string, variant: string | null, context: string) => {
    clock.advance(1000);
    const call = createCall(store, accountId, { direction: "inbound", transport: "browser" });
    setCallPolicy(store, accountId, call.id, variant, context);
  };
  const a = createAccount(store, { name: "A", kind: "private" });
  const b = createAccount(store, { name: "B", kind: "clinical" });
  pick(a.id, "v1a", "ctx");
  pick(b.id, "v1b", "ctx");
  pick(a.id, null, "ctx");
  pick(a.id, "v1a", "other");
  assert.deepEqual(recentPolicySelections(store, "ctx", 10), ["v1b", "v1a"]);
  assert.deepEqual(recentPolicySelections(store, "ctx", 1), ["v1b"]);
  store.close();
});

Deno.test("adminDisabledVariants follows each variant's latest enable or disable decision", () => {
  const { store } = memoryStore();
  const log = (kind: "enable" | "disable" | "blacklist", variantId: string, createdAt: number) =>
    appendRlDecision(store, { kind, variantId, context: null, reason: "test", actor: "admin", createdAt });
  log("disable", "v1a", 1);
  log("disable", "v1b", 1);
  log("enable", "v1b", 2);
  log("blacklist", "v1b", 3);
  log("enable", "v1c", 1);
  assert.deepEqual(adminDisabledVariants(store), ["v1a"]);
  store.close();
});
