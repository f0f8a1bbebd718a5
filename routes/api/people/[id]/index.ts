// GET, PATCH and DELETE (erasure, Art. 17; administrators) of one person.
import { getPerson, StoreConflictError, updatePerson } from "../../../../store/mod.ts";
import { type ApiDoc, body, found, json } from "../../../../ui/mod.ts";
import { personJson } from "../../../../ui/mod.ts";
import { erasePersonCompletely } from "../../../../ui/mod.ts";
import { PersonPatchInput } from "../../../../ui/mod.ts";
import { type Handlers, HttpError } from "../../../../ui/mod.ts";
import { T } from "../../../../ui/mod.ts";

export const doc: ApiDoc = {
  GET: { summary: "Eine Person", returns: "{ person }" },
  PATCH: { summary: "Person ändern", body: PersonPatchInput, returns: "{ person }" },
  DELETE: {
    summary: "Person mit allen personenbezogenen Daten löschen (Art. 17 DSGVO)",
    returns: "{ erased: true, anonymisedCalls, recordings }",
    admin: true,
  },
};

export const handler: Handlers = {
  GET(ctx) {
    const { account } = ctx.need();
    const p = found(getPerson(ctx.deps.store, account.id, ctx.params.id));
    ctx.audit("person.view", "person", p.id, { api: true });
    return json({ person: personJson(p) });
  },
  PATCH(ctx) {
    const { account } = ctx.need();
    const patch = body(ctx, PersonPatchInput);
    try {
      const p = found(updatePerson(ctx.deps.store, account.id, ctx.params.id, patch));
      ctx.audit("person.update", "person", p.id, { api: true });
      return json({ person: personJson(p) });
    } catch (e) {
      if (e instanceof StoreConflictError) throw new HttpError(409, T.people.errDuplicate);
      throw e;
    }
  },
  DELETE(ctx) {
    const { account, user } = ctx.need();
    if (user.role !== "admin") throw new HttpError(403, T.api.forbidden);
    const r = found(
      erasePersonCompletely(ctx.deps.store, ctx.deps.config.dataDir, account.id, ctx.params.id),
    );
    ctx.audit("person.erase", "person", ctx.params.id, { ...r, api: true });
    return json({ erased: true, ...r });
  },
};
