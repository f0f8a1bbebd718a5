// GET /api/live/events: server-sent events of the account's live calls ("calls" snapshots, "event"s),
// through the pulled, bounded stream of ui/sse.ts.
import { sseRoute } from "../../../ui/mod.ts";
import { listCallRows } from "../../../store/mod.ts";
import { liveCallItems } from "../../live.tsx";

export const { doc, handler } = sseRoute({
  summary:
    "Live-Ereignisse der laufenden Anrufe (text/event-stream): Ereignis „calls“ mit der Liste, „event“ je Protokoll-Ereignis",
  hub: (deps) => deps.live,
  stream: (ctx, accountId) => {
    const calls = () => liveCallItems(listCallRows(ctx.deps.store, accountId, { active: true, limit: 100 }));
    return {
      initial: () => [
        { event: "calls", data: calls() },
        ...ctx.deps.live.snapshot(accountId).map((e) => ({ event: "event", data: e })),
      ],
      frames: (e) => [
        { event: "event", data: e },
        ...(e.type === "connected" || e.type === "call_end" ? [{ event: "calls", data: calls() }] : []),
      ],
    };
  },
});
