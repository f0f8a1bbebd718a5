// GET /api/live/inbox: server-sent events of the account's "Anliegen" (ui/inbox.ts): first the open count
// (`request_count`), then `request_noted` {id, kind, urgency, open} when a request arrives and
// `request_count` {open} when staff change one. No personal data: pages fetch /api/requests/:id. A call
// being transferred to staff adds `transfer` {callId, reason, outcome, summary?} and `transfer_end` {callId}.
import { sseRoute } from "../../../ui/mod.ts";
import { countOpenRequests } from "../../../store/mod.ts";

export const { doc, handler } = sseRoute({
  summary:
    "Live-Ereignisse der Anliegen (text/event-stream): „event“ request_count { open } beim Verbinden und nach Änderungen, request_noted { id, kind, urgency, open } bei neuen Anliegen, transfer { callId, reason, outcome, summary? } wenn ein Anruf an das Praxisteam verbunden wird, transfer_end { callId } wenn dieser Anruf endet",
  hub: (deps) => deps.inbox,
  stream: (ctx, accountId) => ({
    initial: () => [{
      event: "event",
      data: {
        type: "request_count",
        at: ctx.deps.now(),
        data: { open: countOpenRequests(ctx.deps.store, accountId) },
      },
    }],
  }),
});
