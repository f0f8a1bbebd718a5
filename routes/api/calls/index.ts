// GET /api/calls: the account's calls, newest first (optionally of one person, or only live ones).
import { z } from "zod";
import { type ApiDoc, json, PageQuery, query } from "../../../ui/mod.ts";
import { callJson } from "../../../ui/mod.ts";
import { listCallRows } from "../../../store/mod.ts";
import type { Handlers } from "../../../ui/mod.ts";

const CallsQuery = PageQuery.extend({
  personId: z.string().max(100).optional(),
  active: z.enum(["true", "false"]).optional(),
});

export const doc: ApiDoc = {
  GET: { summary: "Anrufe des Kontos", query: CallsQuery, returns: "{ calls: Call[] }" },
};

export const handler: Handlers = {
  GET(ctx) {
    const { account } = ctx.need();
    const q = query(ctx, CallsQuery);
    const calls = listCallRows(ctx.deps.store, account.id, { ...q, active: q.active === "true" });
    ctx.audit("call.list", "call", null, { count: calls.length, api: true });
    return json({ calls: calls.map(callJson) });
  },
};
