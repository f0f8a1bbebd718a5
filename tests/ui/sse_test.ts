// sseRoute: the route of a live stream scoped to the signed-in account: its API documentation, the
// snapshot first, then only the account's events, and the subscription ends when the client goes away.
import assert from "node:assert/strict";
import { LiveHub } from "../../ui/live.ts";
import { sseRoute } from "../../ui/sse.ts";
import type { RouteContext, UiDeps } from "../../ui/types.ts";

Deno.test("sseRoute documents the stream and follows the signed-in account's hub only", async () => {
  const hub = new LiveHub();
  const { doc, handler } = sseRoute({
    summary: "Live-Ereignisse",
    hub: (deps) => deps.inbox,
    stream: (_ctx, accountId) => ({ initial: () => [{ event: "hello", data: { accountId } }] }),
  });
  assert.deepEqual(doc, { GET: { summary: "Live-Ereignisse", returns: "text/event-stream" } });
  const ctx = {
    need: () => ({ account: { id: "acc-a" } }),
    deps: { inbox: hub } as unknown as UiDeps,
  } as unknown as RouteContext;
  assert.ok(handler.GET);
  const res = await handler.GET(ctx);
  assert.ok(res instanceof Response);
  assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
  assert.equal(hub.subscribers, 1);
  assert.ok(res.body);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const until = async (s: string) => {
    while (!text.includes(s)) text += (await reader.read()).value ?? "";
  };
  await until('event: hello\ndata: {"accountId":"acc-a"}\n\n');
  hub.publish({ accountId: "acc-b", callId: "c", type: "other_account", at: 1 });
  hub.publish({ accountId: "acc-a", callId: "c", type: "mine", at: 2 });
  await until('"type":"mine"');
  assert.ok(!text.includes("other_account"));
  await reader.cancel();
  assert.equal(hub.subscribers, 0);
});
