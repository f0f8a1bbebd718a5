// Policy variants and the Thompson bandit's Beta posteriors per (context, variant).
//
// Both tables are global, not per account: a variant is a conversation policy (prompt slots) and its
// posterior aggregates rewards over every call of every account. Neither holds personal data, so
// these functions take no accountId. The bandit's math lives in rl/; the store only adds deltas
// atomically, so concurrent rewards never lose an update.
import type { Store } from "./db.ts";
import { StoreNotFoundError } from "./errors.ts";
import type { JsonObject } from "./types.ts";
import {
  bit,
  isConstraint,
  jsonText,
  many,
  one,
  parseJson,
  requireNumber,
  requireText,
  run,
} from "./_util.ts";

/** A conversation policy the bandit can choose. */
export interface Variant {
  id: string;
  name: string;
  slots: JsonObject;
  enabled: boolean;
  blacklisted: boolean;
  blacklistedAt: number | null;
  blacklistReason: string | null;
  createdAt: number;
}

/** Input of {@linkcode upsertVariant}. */
export interface NewVariant {
  id: string;
  name: string;
  slots?: JsonObject;
  enabled?: boolean;
}

/** Posterior Beta(alpha, beta) of one variant in one context. */
export interface BanditArm {
  context: string;
  variantId: string;
  alpha: number;
  beta: number;
  pulls: number;
  rewardSum: number;
  updatedAt: number;
}

/** One reward, already turned into Beta increments by rl/. */
export interface RewardUpdate {
  alphaDelta: number;
  betaDelta: number;
  /** The raw reward in -1..1, summed for reporting. */
  reward: number;
}

type VariantRow = Omit<Variant, "slots" | "enabled" | "blacklisted"> & {
  slots: string;
  enabled: number;
  blacklisted: number;
};

const VARIANT_COLUMNS = `id, name, slots_json AS slots, enabled, blacklisted, blacklisted_at AS blacklistedAt,
  blacklist_reason AS blacklistReason, created_at AS createdAt`;
const ARM_COLUMNS = `context, variant_id AS variantId, alpha, beta, pulls, reward_sum AS rewardSum,
  updated_at AS updatedAt`;

function toVariant(row: VariantRow): Variant {
  return {
    ...row,
    slots: parseJson(row.slots),
    enabled: row.enabled === 1,
    blacklisted: row.blacklisted === 1,
  };
}

/** Creates the variant or updates its name, slots and enabled flag (the blacklist state is kept). */
export function upsertVariant(store: Store, input: NewVariant): Variant {
  const what = "Cannot save variant";
  const id = requireText(what, "id", input.id, 64);
  const sql = `INSERT INTO variants (id, name, slots_json, enabled, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
    ON CONFLICT (id) DO UPDATE SET name = ?2, slots_json = ?3, enabled = ?4`;
  store.prepare(sql).run(
    id,
    requireText(what, "name", input.name),
    jsonText(what, "slots", input.slots ?? {}),
    bit(input.enabled ?? true),
    store.now(),
  );
  return getVariant(store, id) as Variant;
}

/** The variant, or undefined. */
export function getVariant(store: Store, variantId: string): Variant | undefined {
  const row = one<VariantRow>(
    store.prepare(`SELECT ${VARIANT_COLUMNS} FROM variants WHERE id = ?`),
    variantId,
  );
  return row && toVariant(row);
}

/** All variants by id; with `activeOnly`, only enabled and not blacklisted ones. */
export function listVariants(store: Store, opts: { activeOnly?: boolean } = {}): Variant[] {
  const sql =
    `SELECT ${VARIANT_COLUMNS} FROM variants WHERE ?1 = 0 OR (enabled = 1 AND blacklisted = 0) ORDER BY id`;
  return many<VariantRow>(store.prepare(sql), bit(opts.activeOnly ?? false)).map(toVariant);
}

/** Enables or disables the variant; false if it does not exist. */
export function setVariantEnabled(store: Store, variantId: string, enabled: boolean): boolean {
  return run(store.prepare("UPDATE variants SET enabled = ? WHERE id = ?"), bit(enabled), variantId) === 1;
}

/** Blacklists the variant (deploy guard); false if it does not exist or is already blacklisted. */
export function blacklistVariant(store: Store, variantId: string, reason: string, at = store.now()): boolean {
  const sql = `UPDATE variants SET blacklisted = 1, blacklisted_at = ?, blacklist_reason = ?
    WHERE id = ? AND blacklisted = 0`;
  return run(
    store.prepare(sql),
    at,
    requireText("Cannot blacklist variant", "reason", reason, 500),
    variantId,
  ) === 1;
}

/** Lifts the blacklist; false if the variant does not exist or was not blacklisted. */
export function clearBlacklist(store: Store, variantId: string): boolean {
  const sql = `UPDATE variants SET blacklisted = 0, blacklisted_at = NULL, blacklist_reason = NULL
    WHERE id = ? AND blacklisted = 1`;
  return run(store.prepare(sql), variantId) === 1;
}

/** The context's arms that have seen at least one reward, by variant id. */
export function listArms(store: Store, context: string): BanditArm[] {
  const sql = `SELECT ${ARM_COLUMNS} FROM bandit_state WHERE context = ? ORDER BY variant_id`;
  return many<BanditArm>(store.prepare(sql), context);
}

/** Every context's arms, by context and variant (for `tom rl report`). */
export function listAllArms(store: Store): BanditArm[] {
  return many<BanditArm>(
    store.prepare(`SELECT ${ARM_COLUMNS} FROM bandit_state ORDER BY context, variant_id`),
  );
}

/**
 * The variants chosen for a context's most recent calls, newest first (the deploy guard's traffic window).
 * Like the bandit it spans every account: it reads only variant ids, no personal data.
 */
export function recentPolicySelections(store: Store, context: string, limit: number): string[] {
  const sql =
    `SELECT policy_variant_id AS v FROM calls WHERE bandit_context = ? AND policy_variant_id IS NOT NULL
    ORDER BY started_at DESC LIMIT ?`;
  return many<{ v: string }>(store.prepare(sql), context, limit).map((r) => r.v);
}

/**
 * Adds one reward to the arm atomically, creating it from the prior (default Beta(1, 1)) on first use.
 * Throws StoreNotFoundError if the variant does not exist.
 */
export function applyReward(
  store: Store,
  context: string,
  variantId: string,
  update: RewardUpdate,
  prior: { alpha: number; beta: number } = { alpha: 1, beta: 1 },
): BanditArm {
  const what = "Cannot apply reward";
  const sql = `INSERT INTO bandit_state (context, variant_id, alpha, beta, pulls, reward_sum, updated_at)
    VALUES (?1, ?2, ?3 + ?5, ?4 + ?6, 1, ?7, ?8)
    ON CONFLICT (context, variant_id) DO UPDATE SET alpha = alpha + ?5, beta = beta + ?6, pulls = pulls + 1,
      reward_sum = reward_sum + ?7, updated_at = ?8
    RETURNING ${ARM_COLUMNS}`;
  try {
    return one<BanditArm>(
      store.prepare(sql),
      requireText(what, "context", context),
      variantId,
      requireNumber(what, "prior.alpha", prior.alpha, Number.MIN_VALUE, 1e9),
      requireNumber(what, "prior.beta", prior.beta, Number.MIN_VALUE, 1e9),
      requireNumber(what, "alphaDelta", update.alphaDelta, 0, 1e6),
      requireNumber(what, "betaDelta", update.betaDelta, 0, 1e6),
      requireNumber(what, "reward", update.reward, -1, 1),
      store.now(),
    ) as BanditArm;
  } catch (err) {
    if (isConstraint(err, "FOREIGN KEY")) throw new StoreNotFoundError(`${what}: no variant ${variantId}`);
    throw err;
  }
}
