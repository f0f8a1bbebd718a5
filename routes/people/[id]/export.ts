// Export of everything stored about a person as JSON (GDPR Art. 15); audited.
import { exportPerson } from "../../../ui/mod.ts";
import { found } from "../../../ui/mod.ts";
import type { Handlers } from "../../../ui/mod.ts";

export const handler: Handlers = {
  async GET(ctx) {
    const { account } = ctx.need();
    const data = found(await exportPerson(ctx.deps.store, ctx.deps.keyring, account.id, ctx.params.id));
    ctx.audit("person.export", "person", ctx.params.id, { calls: data.calls.length });
    return new Response(JSON.stringify(data, null, 2), {
      headers: {
        "Content-Type": "application/json; charset=utf-8",
        "Content-Disposition": `attachment; filename="person-${ctx.params.id}.json"`,
      },
    });
  },
};
