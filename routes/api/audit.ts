// GET /api/audit: the account's audit log (administrators).
import { z } from "zod";
import { listAudit } from "../../store/mod.ts";
import { type ApiDoc, json, query } from "../../ui/mod.ts";
import type { Handlers, RouteConfig } from "../../ui/mod.ts";

export const config: RouteConfig = { auth: "admin" };

const AuditQuery = z.object({
  subjectType: z.string().max(100).optional(),
  subjectId: z.string().max(100).optional(),
  before: z.coerce.number().int().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const doc: ApiDoc = {
  GET: { summary: "Zugriffsprotokoll", query: AuditQuery, returns: "{ entries }", admin: true },
};

export const handler: Handlers = {
  GET(ctx) {
    const { account } = ctx.need();
    const q = query(ctx, AuditQuery);
    return json({
      entries: listAudit(ctx.deps.store, account.id, q).map((e) => ({
        ...e,
        at: new Date(e.at).toISOString(),
      })),
    });
  },
};
