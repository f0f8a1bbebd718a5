/**
 * Administrator actions on policy variants, each written to the decision log (`rl_decisions`) so the
 * admin UI's learning page and `tom rl report` can show who changed what and why. The bandit reads the
 * variants table on every selection, so a change takes effect with the next call.
 *
 * @module
 */
import type { Store } from "../store/mod.ts";
import { clearBlacklist, getVariant, listVariants, setVariantEnabled } from "../store/mod.ts";
import { appendRlDecision, type RlDecision } from "../store/mod.ts";
import type { RlMetrics } from "./metrics.ts";

/** Why an administrator action did nothing. */
export class VariantActionError extends Error {
  override name = "VariantActionError";
}

/** Options of the administrator actions. */
export interface VariantActionOptions {
  /** Who acts (user id or e-mail; never a caller's data). */
  actor: string;
  /** The acting user's account: only that account sees the decision's reason (null: box-level). */
  accountId?: string | null;
  /** Why, in the administrator's words (default: a generic reason naming the action). */
  reason?: string;
  /** Keeps the blacklisted gauge in step with the store. */
  metrics?: RlMetrics;
}

/** Set the blacklisted-variants gauge from the store (at start and after an administrator's action). */
export function refreshBlacklistGauge(store: Store, metrics?: RlMetrics): void {
  metrics?.setBlacklisted(listVariants(store).filter((v) => v.blacklisted).map((v) => v.id));
}

/**
 * Lift the deploy guard's blacklist of a variant. It keeps its posterior, so unless the administrator
 * also resets nothing else, a still-bad variant is blacklisted again after its next reward.
 *
 * @throws {VariantActionError} when the variant does not exist or is not blacklisted
 */
export function reenableVariant(store: Store, variantId: string, opts: VariantActionOptions): RlDecision {
  const v = getVariant(store, variantId);
  if (!v) throw new VariantActionError(`Unknown variant "${variantId}"`);
  return store.transaction(() => {
    if (!clearBlacklist(store, variantId)) {
      throw new VariantActionError(`Variant "${variantId}" is not blacklisted`);
    }
    const d = appendRlDecision(store, {
      kind: "reenable",
      variantId,
      context: null,
      reason: opts.reason?.trim() || `Re-enabled by an administrator (was: ${v.blacklistReason ?? "-"})`,
      actor: opts.actor,
      accountId: opts.accountId,
    });
    refreshBlacklistGauge(store, opts.metrics);
    return d;
  });
}

/**
 * Take a variant out of rotation (`enabled = false`) or put it back. The base variant can be disabled
 * too; the bandit then falls back to the best remaining one, or to the default policy when none is left.
 *
 * @throws {VariantActionError} when the variant does not exist or already has that state
 */
export function setVariantActive(
  store: Store,
  variantId: string,
  enabled: boolean,
  opts: VariantActionOptions,
): RlDecision {
  const v = getVariant(store, variantId);
  if (!v) throw new VariantActionError(`Unknown variant "${variantId}"`);
  if (v.enabled === enabled) {
    throw new VariantActionError(`Variant "${variantId}" is already ${enabled ? "enabled" : "disabled"}`);
  }
  return store.transaction(() => {
    setVariantEnabled(store, variantId, enabled);
    return appendRlDecision(store, {
      kind: enabled ? "enable" : "disable",
      variantId,
      context: null,
      reason: opts.reason?.trim() ||
        (enabled ? "Enabled by an administrator" : "Disabled by an administrator"),
      actor: opts.actor,
      accountId: opts.accountId,
    });
  });
}
