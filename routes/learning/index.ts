// Learning (administrators): the conversation strategies (policy variants) the bandit chooses from, per
// context their figures as `tom rl report` shows them, the decision log, the rewards of the account's
// recent calls with their components, and the actions re-enable / disable / enable.
import {
  buildReport,
  reenableVariant,
  setVariantActive,
  VariantActionError,
  variantsOf,
} from "../../rl/mod.ts";
import { getVariant, listRewards, listRlDecisions, listUsers, listVariants } from "../../store/mod.ts";
import { fill, isApplianceAdmin, T } from "../../ui/mod.ts";
import type { Handlers, RouteConfig, RouteContext } from "../../ui/mod.ts";
import { type Data, MAX_REASON } from "./_view.tsx";

// Account administrators see the figures, their account's rewards and their account's decisions (never
// another account's reasons). The actions are box-wide (the strategies are shared by every account and
// change what every account's callers hear): the appliance administrator only, checked by the router.
export const config: RouteConfig = { auth: "admin", appliance: { methods: ["POST"] } };

/** Page sizes of the account's rewards and of the decision log. */
const REWARDS_SHOWN = 50;
const DECISIONS_SHOWN = 100;

async function data(ctx: RouteContext<Data>, error?: string): Promise<Data> {
  const { account } = ctx.need();
  const store = ctx.deps.store;
  const learning = ctx.deps.learning?.();
  const baseVariant = (learning?.variants ?? await variantsOf(ctx.deps.config)).baseVariant;
  const rows = buildReport(store, { baseVariant });
  const contexts = [...new Set(rows.map((r) => r.context))].filter((c) => c !== "-");
  const m = learning?.metrics.snapshot();
  return {
    baseVariant,
    report: contexts.map((context) => ({ context, rows: rows.filter((r) => r.context === context) })),
    variants: listVariants(store).map((v) => ({
      id: v.id,
      name: v.name,
      slots: Object.fromEntries(Object.entries(v.slots).map(([k, x]) => [k, String(x)])),
      enabled: v.enabled,
      blacklisted: v.blacklisted,
    })),
    decisions: listRlDecisions(store, account.id, { limit: DECISIONS_SHOWN }),
    appliance: isApplianceAdmin(ctx.auth),
    names: Object.fromEntries(
      listUsers(store, account.id, { limit: 1000 }).map((u) => [u.id, u.displayName]),
    ),
    rewards: listRewards(store, account.id, { limit: REWARDS_SHOWN }),
    metrics: m
      ? {
        feedback: Object.values(m.feedbackTotal).reduce((a, b) => a + b, 0),
        selections: m.selections,
        explorationShare: m.explorationShare,
      }
      : null,
    error,
  };
}

const OPS = {
  reenable: { audit: "variant.reenable", flash: "variantReenabled" },
  disable: { audit: "variant.disable", flash: "variantDisabled" },
  enable: { audit: "variant.enable", flash: "variantEnabled" },
} as const;

/** The German message for a refused action, from the variant's state now. */
function refusal(variantId: string, op: keyof typeof OPS, ctx: RouteContext<Data>): [number, string] {
  const v = getVariant(ctx.deps.store, variantId);
  if (!v) return [400, T.learning.errUnknown];
  if (op === "reenable") return [409, T.learning.errNotBlacklisted];
  return [409, op === "enable" ? T.learning.errAlreadyEnabled : T.learning.errAlreadyDisabled];
}

export const handler: Handlers<Data> = {
  async GET(ctx) {
    return ctx.render(await data(ctx), { title: T.learning.title });
  },
  async POST(ctx) {
    const { account, user } = ctx.need();
    const f = ctx.form;
    const op = f.get("op") ?? "";
    const variantId = (f.get("variant") ?? "").trim();
    const reason = (f.get("reason") ?? "").trim();
    const fail = async (status: number, message: string) =>
      ctx.render(await data(ctx, message), { title: T.learning.title, status });
    if (!(op in OPS)) return await fail(400, T.learning.errOp);
    const kind = op as keyof typeof OPS;
    if (reason.length > MAX_REASON) return await fail(400, T.learning.errReason);
    const before = getVariant(ctx.deps.store, variantId);
    if (!before) return await fail(400, T.learning.errUnknown);
    const metrics = ctx.deps.learning?.()?.metrics;
    try {
      // The decision and its audit entry are written together or not at all.
      ctx.deps.store.transaction(() => {
        const decision = kind === "reenable"
          ? reenableVariant(ctx.deps.store, variantId, {
            actor: user.id,
            accountId: account.id,
            reason: reason || fill(T.learning.reasonReenable, { was: before.blacklistReason ?? "–" }),
            metrics,
          })
          : setVariantActive(ctx.deps.store, variantId, kind === "enable", {
            actor: user.id,
            accountId: account.id,
            reason: reason || (kind === "enable" ? T.learning.reasonEnable : T.learning.reasonDisable),
          });
        ctx.audit(OPS[kind].audit, "variant", variantId, { decision: decision.id, reason: decision.reason });
      });
    } catch (e) {
      if (!(e instanceof VariantActionError)) throw e;
      const [status, message] = refusal(variantId, kind, ctx);
      return await fail(status, message);
    }
    return ctx.redirect(`/learning?ok=${OPS[kind].flash}`);
  },
};

export { LearningPage as default } from "./_view.tsx";
