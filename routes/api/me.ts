// GET /api/me: who is asking (user, role, account).
import { type ApiDoc, json } from "../../ui/mod.ts";
import type { Handlers } from "../../ui/mod.ts";

export const doc: ApiDoc = {
  GET: { summary: "Der angemeldete Benutzer und sein Konto", returns: "{ user, account }" },
};

export const handler: Handlers = {
  GET(ctx) {
    const { user, account, via } = ctx.need();
    return json({
      user: { id: user.id, displayName: user.displayName, email: user.email, role: user.role },
      account: { id: account.id, name: account.name, kind: account.kind },
      via,
    });
  },
};
