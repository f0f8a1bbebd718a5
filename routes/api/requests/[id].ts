// GET /api/requests/:id: one request (decrypted); PATCH: change status, assignee or staff notes. Staff and
// administrators alike; every view and change is audited (the notes themselves never are).
import { getRequest } from "../../../store/mod.ts";
import {
  type ApiDoc,
  found,
  json,
  patchRequest,
  publishRequestCount,
  requestJson,
  RequestPatchSchema,
} from "../../../ui/mod.ts";
import type { Handlers } from "../../../ui/mod.ts";

export const doc: ApiDoc = {
  GET: { summary: "Ein Anliegen mit allen Angaben", returns: "{ request }" },
  PATCH: {
    summary: "Anliegen bearbeiten: Stand (open, in_progress, done), Zuständige/r (null: niemand), Notizen",
    body: RequestPatchSchema,
    returns:
      "{ request }; 400 mit deutschen Meldungen (detail: [{ path, message }]), 404 wenn nicht im Konto",
  },
};

export const handler: Handlers = {
  async GET(ctx) {
    const { account } = ctx.need();
    const request = found(await getRequest(ctx.deps.store, ctx.deps.keyring, account.id, ctx.params.id));
    ctx.audit("request.view", "request", request.id, { api: true });
    return json({ request: requestJson(request) });
  },
  async PATCH(ctx) {
    const { account } = ctx.need();
    const r = found(
      await patchRequest(ctx.deps.store, ctx.deps.keyring, account.id, ctx.params.id, ctx.json ?? {}),
    );
    ctx.audit("request.update", "request", r.request.id, {
      changed: r.changed.join(","),
      status: r.request.status,
      api: true,
    });
    // The open count in every page's navigation follows a change of status live.
    if (r.changed.includes("status")) {
      publishRequestCount(ctx.deps.inbox, ctx.deps.store, account.id, ctx.deps.now);
    }
    return json({ request: requestJson(r.request) });
  },
};
