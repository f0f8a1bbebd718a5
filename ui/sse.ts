/**
 * Server-sent events from a {@linkcode LiveSubscription}: the one stream behind every live page (the Live
 * page's calls, the "Anliegen" badge and rows). The stream is pulled: an event is taken from the hub's
 * bounded queue only when the client reads, so a stalled client cannot make the server buffer without
 * limit (the hub disconnects it instead); a heartbeat comment goes out when nothing happened for a while.
 * {@linkcode sseRoute} is the whole route around it: the account's subscription and the API's documentation.
 *
 * @module
 */
import type { ApiDoc } from "./api.ts";
import type { LiveEvent, LiveHub, LiveSubscription } from "./live.ts";
import type { Handlers, RouteContext, UiDeps } from "./types.ts";

/** A named server-sent event. */
export interface SseFrame {
  event: string;
  data: unknown;
}

/** Options of {@linkcode sseResponse}. */
export interface SseOptions {
  /** Frames sent first (a snapshot), after the retry hint. */
  initial: () => SseFrame[];
  /** Frames for one event of the hub (default: the event as `event`). */
  frames?: (e: LiveEvent) => SseFrame[];
  /** Heartbeat after this long without events (default 15 s). */
  heartbeatMs?: number;
}

/** The `text/event-stream` response that follows `sub` until the client goes away. */
export function sseResponse(sub: LiveSubscription, opts: SseOptions): Response {
  const enc = new TextEncoder();
  const frame = (f: SseFrame) => enc.encode(`event: ${f.event}\ndata: ${JSON.stringify(f.data)}\n\n`);
  const frames = opts.frames ?? ((e: LiveEvent) => [{ event: "event", data: e }]);
  const heartbeat = opts.heartbeatMs ?? 15_000;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      // A reconnecting EventSource (after a disconnect for falling behind) waits one second.
      controller.enqueue(enc.encode("retry: 1000\n\n"));
      for (const f of opts.initial()) controller.enqueue(frame(f));
    },
    async pull(controller) {
      const e = await sub.next(heartbeat);
      try {
        if (e === null) return controller.close();
        if (e === "idle") return controller.enqueue(enc.encode(": ping\n\n"));
        for (const f of frames(e)) controller.enqueue(frame(f));
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
}

/** Options of {@linkcode sseRoute}. */
export interface SseRouteOptions {
  /** The API documentation's summary (German): which events, when. */
  summary: string;
  /** The hub whose events for the signed-in account the stream follows. */
  hub: (deps: UiDeps) => LiveHub;
  /** The account's snapshot and frames, read once the subscription is open (so nothing falls between). */
  stream: (ctx: RouteContext, accountId: string) => Omit<SseOptions, "heartbeatMs">;
}

/**
 * A GET route of server-sent events scoped to the signed-in account, and its documentation; a route file
 * exports both: `export const { doc, handler } = sseRoute({...})`.
 */
export function sseRoute(opts: SseRouteOptions): { doc: ApiDoc; handler: Handlers } {
  return {
    doc: { GET: { summary: opts.summary, returns: "text/event-stream" } },
    handler: {
      GET(ctx) {
        const { account } = ctx.need();
        const sub = opts.hub(ctx.deps).subscribe(account.id);
        return sseResponse(sub, opts.stream(ctx, account.id));
      },
    },
  };
}
