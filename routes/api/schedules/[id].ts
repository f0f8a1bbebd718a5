// DELETE /api/schedules/:id.
import { type ApiDoc, json } from "../../../ui/mod.ts";
import { deleteSchedule } from "../../../store/mod.ts";
import { type Handlers, HttpError } from "../../../ui/mod.ts";
import { T } from "../../../ui/mod.ts";

export const doc: ApiDoc = { DELETE: { summary: "Geplanten Anruf löschen", returns: "{ deleted: true }" } };

export const handler: Handlers = {
  DELETE(ctx) {
    const { account } = ctx.need();
    if (!deleteSchedule(ctx.deps.store, account.id, ctx.params.id)) throw new HttpError(404, T.api.notFound);
    ctx.audit("schedule.delete", "schedule", ctx.params.id, { api: true });
    return json({ deleted: true });
  },
};
