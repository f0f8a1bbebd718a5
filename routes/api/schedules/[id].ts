// DELETE /api/schedules/:id.
import { type ApiDoc, json } from "../../../ui/api.ts";
import { deleteSchedule } from "../../../ui/data/schedules.ts";
import { type Handlers, HttpError } from "../../../ui/types.ts";
import { T } from "../../../ui/texts_de.ts";

export const doc: ApiDoc = { DELETE: { summary: "Geplanten Anruf löschen", returns: "{ deleted: true }" } };

export const handler: Handlers = {
  DELETE(ctx) {
    const { account } = ctx.need();
    if (!deleteSchedule(ctx.deps.store, account.id, ctx.params.id)) throw new HttpError(404, T.api.notFound);
    ctx.audit("schedule.delete", "schedule", ctx.params.id, { api: true });
    return json({ deleted: true });
  },
};
