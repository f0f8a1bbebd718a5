// GET /api/live/events: server-sent events of the account's live calls ("calls" snapshots, "event"s).
// The stream is pulled: an event is taken from the hub's bounded queue only when the client reads, so a
// stalled client cannot make the server buffer without limit (the hub disconnects it instead).
import { type ApiDoc } from "../../../ui/mod.ts";
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

const HEARTBEAT_MS = 15_000;

export const handler: Handlers = {
  GET(ctx) {
    const { account } = ctx.need();
    const store = ctx.deps.store;
    const hub = ctx.deps.live;
    const enc = new TextEncoder();
    const frame = (event: string, data: unknown) =>
      enc.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const calls = () => liveCallItems(listCallRows(store, account.id, { active: true, limit: 100 }));
    const sub = hub.subscribe(account.id);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        // A reconnecting EventSource (after a disconnect for falling behind) waits one second.
        controller.enqueue(enc.encode("retry: 1000\n\n"));
        controller.enqueue(frame("calls", calls()));
        for (const e of hub.snapshot(account.id)) controller.enqueue(frame("event", e));
      },
      async pull(controller) {
        const e = await sub.next(HEARTBEAT_MS);
        try {
          if (e === null) return controller.close();
          if (e === "idle") return controller.enqueue(enc.encode(": ping\n\n"));
          controller.enqueue(frame("event", e));
          if (e.type === "connected" || e.type === "call_end") controller.enqueue(frame("calls", calls()));
        } catch {
          sub.close(); // the client went away while we waited
        }
      },
      // The client went away (Deno.serve cancels the body stream).
      cancel() {
        sub.close();
      },
    }, { highWaterMark: 0 });
    return new Response(stream, {
      headers: {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-store",
        "X-Accel-Buffering": "no",
      },
    });
  },
};
