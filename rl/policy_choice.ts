/**
 * Choosing the policy of a new call: the bandit's decision turned into the policy text, greeting and
 * pipeline parameters, with the values the call record needs (`policyVariantId`, `banditContext`).
 *
 * @module
 */
import type { Store } from "../store/mod.ts";
import { getVariant } from "../store/mod.ts";
import type { PolicyBandit } from "./bandit.ts";
import type { Decision } from "./decision.ts";
import { type AppliedPolicy, applyVariant } from "./variants.ts";

/** The call's policy. */
export interface CallPolicy extends AppliedPolicy {
  /** Store as `calls.bandit_context` (createCall `banditContext`). */
  context: string;
  decision: Decision;
}

/**
 * Choose and apply the policy for a call in `context` (the account kind: "private" or "clinical").
 * @returns undefined when no variant is active or the chosen one is unusable: use DEFAULT_POLICY
 */
export function chooseCallPolicy(
  store: Store,
  bandit: PolicyBandit,
  context: string,
): CallPolicy | undefined {
  const decision = bandit.select(context);
  if (!decision) return undefined;
  const variant = getVariant(store, decision.variantId);
  if (!variant) return undefined;
  try {
    return { ...applyVariant(variant), context, decision };
  } catch {
    return undefined; // slots written by an older file version: fall back to the default policy
  }
}
