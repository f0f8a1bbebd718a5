// GET /api/people/:id/export: everything about the person (GDPR Art. 15).
import { type ApiDoc, found, json } from "../../../../ui/mod.ts";
import { exportPerson } from "../../../../ui/mod.ts";
import type { Handlers } from "../../../../ui/mod.ts";

export const doc: ApiDoc = {
  GET: {
    summary: "Alle Daten der Person (Art. 15 DSGVO), Protokolle entschlüsselt",
    returns: "tom-person-export/1",
  },
};

export const handler: Handlers = {
  async GET(ctx) {
    const { account } = ctx.need();
    const data = found(await exportPerson(ctx.deps.store, ctx.deps.keyring, account.id, ctx.params.id));
    ctx.audit("person.export", "person", ctx.params.id, { calls: data.calls.length, api: true });
    return json(data, 200, { "Content-Disposition": `attachment; filename="person-${ctx.params.id}.json"` });
  },
};
