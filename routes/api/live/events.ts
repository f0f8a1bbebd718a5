// GET /api/live/events: server-sent events of the account's live calls ("calls" snapshots, "event"s).
import { type ApiDoc } from "../../../ui/api.ts";
import { listCallRows } from "../../../ui/data/queries.ts";
import { liveCallItems } from "../../live.tsx";
import type { LiveEvent } from "../../../ui/live.ts";
import type { Handlers } from "../../../ui/types.ts";

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
    let cleanup = () => {};
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        const send = (event: string, data: unknown) => {
          try {
            controller.enqueue(enc.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
          } catch {
            cleanup();
          }
        };
        const calls = () => liveCallItems(listCallRows(store, account.id, { active: true, limit: 100 }));
        send("calls", calls());
        for (const e of hub.snapshot(account.id)) send("event", e);
        const unsubscribe = hub.subscribe((e: LiveEvent) => {
          if (e.accountId !== account.id) return;
          send("event", e);
          if (e.type === "connected" || e.type === "call_end") send("calls", calls());
        });
        const beat = setInterval(() => {
          try {
            controller.enqueue(enc.encode(": ping\n\n"));
          } catch {
            cleanup();
          }
        }, HEARTBEAT_MS);
        cleanup = () => {
          unsubscribe();
          clearInterval(beat);
        };
      },
      // The client went away (Deno.serve cancels the body stream).
      cancel() {
        cleanup();
      },
    });
    return new Response(stream, {
      headers: {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-store",
        "X-Accel-Buffering": "no",
      },
    });
  },
};
