// POST /api/retention/run: apply retention now (administrators).
import { type ApiDoc, json } from "../../../ui/mod.ts";
import type { Handlers, RouteConfig } from "../../../ui/mod.ts";

export const config: RouteConfig = { auth: "admin" };

export const doc: ApiDoc = {
  POST: {
    summary: "Aufbewahrungsfristen jetzt anwenden",
    returns: "{ transcriptTurns, analyses, recordings, sessions }",
    admin: true,
  },
};

export const handler: Handlers = {
  POST(ctx) {
    const { account, user } = ctx.need();
    const r = ctx.deps.retention.run({ accountId: account.id, actorUserId: user.id });
    return json(r);
  },
};
