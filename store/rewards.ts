// Rewards of finished calls (with the formula's components, for the admin UI's learning page) and the
// deploy guard's decision log. Rewards are account-scoped like calls; decisions are global like variants.
import type { Store } from "./db.ts";
import { many, one, page, requireNumber, requireOneOf, requireText, run } from "./_util.ts";
import type { PageOptions } from "./types.ts";

/** How the rating was given; `none` when the caller was not asked or hung up first. */
export type RewardSource = "voice" | "dtmf" | "none";

/** A call's reward. */
export interface CallReward {
  accountId: string;
  callId: string;
  variantId: string | null;
  context: string | null;
  /** The clamped reward, -1..1. */
  reward: number;
  /** Each term of the formula as it entered the sum (weight applied). */
  components: Record<string, number>;
  /** Signals that were missing and therefore left out (e.g. "rating"). */
  missing: string[];
  rating: number | null;
  source: RewardSource;
  /** True when the reward updated the bandit (false: a repeat, or a call without a variant). */
  applied: boolean;
  createdAt: number;
}

/** Input of {@linkcode recordReward}. */
export type NewCallReward = Omit<CallReward, "accountId" | "createdAt">;

/** A deploy-guard or administrator decision about a variant. */
export interface RlDecision {
  id: string;
  createdAt: number;
  kind: "blacklist" | "reenable" | "disable" | "enable";
  variantId: string;
  context: string | null;
  reason: string;
  /** "guard" for automatic decisions, else the acting user. */
  actor: string;
  /** The account of the acting user; null for box-level decisions (the deploy guard). */
  accountId: string | null;
}

type RewardRow = Omit<CallReward, "components" | "missing" | "applied"> & {
  components: string;
  missing: string;
  applied: number;
};

const COLUMNS = `account_id AS accountId, call_id AS callId, variant_id AS variantId, context, reward,
  components_json AS components, missing_json AS missing, rating, source, applied, created_at AS createdAt`;

function toReward(r: RewardRow): CallReward {
  return {
    ...r,
    components: JSON.parse(r.components) as Record<string, number>,
    missing: JSON.parse(r.missing) as string[],
    applied: r.applied === 1,
  };
}

/**
 * Store a call's reward (the first one counts: returns false if the call already has one).
 * @throws {TypeError} on values out of range; the call must exist in this account (foreign key).
 */
export function recordReward(store: Store, accountId: string, input: NewCallReward): boolean {
  const what = "Cannot record reward";
  const reward = requireNumber(what, "reward", input.reward, -1, 1);
  const rating = input.rating === null ? null : requireNumber(what, "rating", input.rating, 1, 5);
  const source = requireOneOf(what, "source", input.source, ["voice", "dtmf", "none"] as const);
  for (const [k, v] of Object.entries(input.components)) requireNumber(what, `components.${k}`, v, -1, 1);
  const sql = `INSERT INTO rewards (account_id, call_id, variant_id, context, reward, components_json,
      missing_json, rating, source, applied, created_at)
    SELECT account_id, id, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM calls WHERE account_id = ? AND id = ?
    ON CONFLICT (account_id, call_id) DO NOTHING`;
  return run(
    store.prepare(sql),
    input.variantId,
    input.context,
    reward,
    JSON.stringify(input.components),
    JSON.stringify(input.missing),
    rating,
    source,
    input.applied ? 1 : 0,
    store.now(),
    accountId,
    input.callId,
  ) === 1;
}

/** A call's reward, if any. */
export function getReward(store: Store, accountId: string, callId: string): CallReward | undefined {
  const r = one<RewardRow>(
    store.prepare(`SELECT ${COLUMNS} FROM rewards WHERE account_id = ? AND call_id = ?`),
    accountId,
    callId,
  );
  return r && toReward(r);
}

/** An account's rewards, newest first (optionally of one variant). */
export function listRewards(
  store: Store,
  accountId: string,
  opts: PageOptions & { variantId?: string } = {},
): CallReward[] {
  const [limit, offset] = page(opts);
  const byVariant = opts.variantId !== undefined;
  const rows = many<RewardRow>(
    store.prepare(
      `SELECT ${COLUMNS} FROM rewards WHERE account_id = ? ${byVariant ? "AND variant_id = ?" : ""}
       ORDER BY created_at DESC, call_id LIMIT ? OFFSET ?`,
    ),
    ...(byVariant ? [accountId, opts.variantId ?? "", limit, offset] : [accountId, limit, offset]),
  );
  return rows.map(toReward);
}

/** Append a decision to the log. */
export function appendRlDecision(
  store: Store,
  input: Omit<RlDecision, "id" | "createdAt" | "accountId"> & {
    createdAt?: number;
    accountId?: string | null;
  },
): RlDecision {
  const what = "Cannot log decision";
  const d: RlDecision = {
    id: store.newId(),
    createdAt: input.createdAt ?? store.now(),
    kind: requireOneOf(what, "kind", input.kind, ["blacklist", "reenable", "disable", "enable"] as const),
    variantId: requireText(what, "variantId", input.variantId, 64),
    context: input.context,
    reason: requireText(what, "reason", input.reason, 500),
    actor: requireText(what, "actor", input.actor, 200),
    accountId: input.accountId ?? null,
  };
  run(
    store.prepare(
      `INSERT INTO rl_decisions (id, created_at, kind, variant_id, context, reason, actor, account_id)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    d.id,
    d.createdAt,
    d.kind,
    d.variantId,
    d.context,
    d.reason,
    d.actor,
    d.accountId,
  );
  return d;
}

/**
 * The decision log as one account sees it, newest first: its own users' decisions and the box-level ones
 * (the deploy guard's), never another account's reasons.
 */
export function listRlDecisions(store: Store, accountId: string, opts: PageOptions = {}): RlDecision[] {
  const [limit, offset] = page(opts);
  return many<RlDecision>(
    store.prepare(`SELECT id, created_at AS createdAt, kind, variant_id AS variantId, context, reason, actor,
        account_id AS accountId
      FROM rl_decisions WHERE account_id = ? OR account_id IS NULL
      ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`),
    accountId,
    limit,
    offset,
  );
}

/** Variants whose latest enable/disable decision by an administrator is "disable". */
export function adminDisabledVariants(store: Store): string[] {
  return many<{ id: string }>(
    store.prepare(`SELECT variant_id AS id FROM rl_decisions d WHERE kind IN ('enable', 'disable')
      AND created_at = (SELECT max(created_at) FROM rl_decisions WHERE variant_id = d.variant_id
        AND kind IN ('enable', 'disable')) AND kind = 'disable'`),
  ).map((r) => r.id);
}
