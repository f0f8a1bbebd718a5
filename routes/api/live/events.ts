// GET /api/live/events: server-sent events of the account's live calls ("calls" snapshots, "event"s),
// through the pulled, bounded stream of ui/sse.ts.
import { type ApiDoc, sseResponse } from "../../../ui/mod.ts";
import { listCallRows } from "../../../store/mod.ts";
import { liveCallItems } from "../../live.tsx";
import type { Handlers } from "../../../ui/mod.ts";

export const doc: ApiDoc = {
  GET: {
    summary:
      "Live-Ereignisse der laufenden Anrufe (text/event-stream): Ereignis „calls“ mit der Liste, „event“ je Protokoll-Ereignis",
    returns: "text/event-stream",
  },
};

export const handler: Handlers = {
  GET(ctx) {
    const { account } = ctx.need();
    const store = ctx.deps.store;
    const hub = ctx.deps.live;
    const calls = () => liveCallItems(listCallRows(store, account.id, { active: true, limit: 100 }));
    const sub = hub.subscribe(account.id);
    return sseResponse(sub, {
      initial: () => [
        { event: "calls", data: calls() },
        ...hub.snapshot(account.id).map((e) => ({ event: "event", data: e })),
      ],
      frames: (e) => [
        { event: "event", data: e },
        ...(e.type === "connected" || e.type === "call_end" ? [{ event: "calls", data: calls() }] : []),
      ],
    });
  },
};
