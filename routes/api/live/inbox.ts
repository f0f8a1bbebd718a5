// GET /api/live/inbox: server-sent events of the account's "Anliegen" (ui/inbox.ts): first the open count
// (`request_count`), then `request_noted` {id, kind, urgency, open} when a request arrives and
// `request_count` {open} when staff change one. No personal data: pages fetch /api/requests/:id.
import { type ApiDoc, sseResponse } from "../../../ui/mod.ts";
import { countOpenRequests } from "../../../store/mod.ts";
import type { Handlers } from "../../../ui/mod.ts";

export const doc: ApiDoc = {
  GET: {
    summary:
      "Live-Ereignisse der Anliegen (text/event-stream): „event“ request_count { open } beim Verbinden und nach Änderungen, request_noted { id, kind, urgency, open } bei neuen Anliegen",
    returns: "text/event-stream",
  },
};

export const handler: Handlers = {
  GET(ctx) {
    const { account } = ctx.need();
    const store = ctx.deps.store;
    const sub = ctx.deps.inbox.subscribe(account.id);
    return sseResponse(sub, {
      initial: () => [{
        event: "event",
        data: {
          type: "request_count",
          at: ctx.deps.now(),
          data: { open: countOpenRequests(store, account.id) },
        },
      }],
    });
  },
};
