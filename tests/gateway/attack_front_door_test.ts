/**
 * The front door before the token: Origin allow-list (403), per-address connection cap (429), the
 * development bypass (loopback only), draining (503), not-a-WebSocket (426), bad call ids (400).
 */
import assert from "node:assert/strict";
import { metricValue, rawHandshake, startGateway, TestClient, waitUntil } from "./server_harness.ts";

const path = (callId: string, token: string) => `/ws/stream/${callId}?token=${encodeURIComponent(token)}`;

Deno.test("a browser with a foreign Origin is refused with 403 before the token is even checked", async () => {
  const h = await startGateway({ env: { TOM_GATEWAY_ALLOWED_ORIGINS: "https://praxis.example" } });
  try {
    const token = await h.token("call-o1");
    const foreign = await rawHandshake(h.port, path("call-o1", token), { Origin: "https://evil.example" });
    assert.equal(foreign.status, 403);
    const nullOrigin = await rawHandshake(h.port, path("call-o1", token), { Origin: "null" });
    assert.equal(nullOrigin.status, 403);
    // The same token (its nonce unspent) then works from the appliance's own origin ...
    const own = await rawHandshake(h.port, path("call-o1", token), { Origin: `http://127.0.0.1:${h.port}` });
    assert.equal(own.status, 101);
    // ... from an allowed origin, and from a non-browser client that sends no Origin at all.
    const allowed = await rawHandshake(h.port, path("call-o2", await h.token("call-o2")), {
      Origin: "https://praxis.example",
    });
    assert.equal(allowed.status, 101);
    assert.equal((await rawHandshake(h.port, path("call-o3", await h.token("call-o3")))).status, 101);
    // Same host name on another port or scheme is another origin.
    const otherPort = await rawHandshake(h.port, path("call-o4", await h.token("call-o4")), {
      Origin: `http://127.0.0.1:${h.port + 1}`,
    });
    assert.equal(otherPort.status, 403);
    assert.equal(
      metricValue(await h.metrics(), "tom_gateway_rejected_connections_total", { reason: "origin" }),
      3,
    );
  } finally {
    await h.close();
  }
});

Deno.test("the N+1th concurrent connection from one address is refused with 429", async () => {
  const h = await startGateway({ env: { TOM_GATEWAY_MAX_CONNECTIONS_PER_ADDRESS: "3" } });
  const clients: TestClient[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const c = new TestClient(`${h.ws}${path(`cap-${i}`, await h.token(`cap-${i}`))}`);
      clients.push(c);
      await c.event("connected");
    }
    assert.equal(metricValue(await h.metrics(), "tom_gateway_connections", { transport: "browser" }), 3);
    const token = await h.token("cap-3");
    assert.equal((await rawHandshake(h.port, path("cap-3", token))).status, 429);
    assert.equal(
      metricValue(await h.metrics(), "tom_gateway_rejected_connections_total", { reason: "connections" }),
      1,
    );
    // A slot comes back when a connection closes; the refused token was not spent.
    await clients[0].close();
    await waitUntil(() => h.gateway.browser.size === 2, "the server to see the close");
    const again = new TestClient(`${h.ws}${path("cap-3", token)}`);
    clients.push(again);
    await again.event("connected");
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await h.close();
  }
});

Deno.test("dev bypass: refused at start-up unless HTTP is bound to loopback", async () => {
  await assert.rejects(
    startGateway({ env: { TOM_GATEWAY_DEV_BYPASS: "1", TOM_HTTP_HOST: "0.0.0.0" } }),
    (e: Error) =>
      e.name === "ConfigError" &&
      /gateway.devBypass .*only while http.host is loopback.*"0.0.0.0"/.test(e.message),
  );
});

Deno.test("dev bypass on loopback: no token needed from loopback, but bad tokens and foreign Hosts are refused", async () => {
  const h = await startGateway({ env: { TOM_GATEWAY_DEV_BYPASS: "true" } });
  const client = new TestClient(`${h.ws}/ws/stream/dev-call-1`);
  try {
    await client.event("connected");
    client.send({ type: "start" });
    await client.event("streaming_started");
    assert.ok(h.logs.some((l) => String(l.message).includes("development bypass")));
    // A token that is present is still checked.
    assert.equal((await rawHandshake(h.port, "/ws/stream/dev-call-2?token=bad.token.here")).status, 401);
    // DNS rebinding: a page on evil.example resolved to 127.0.0.1 sends its own Host (and Origin).
    const rebound = await rawHandshake(h.port, "/ws/stream/dev-call-3", { Host: `evil.example:${h.port}` });
    assert.equal(rebound.status, 401);
  } finally {
    await client.close();
    await h.close();
  }
});

Deno.test("while draining new handshakes get 503; plain GETs 426; bad call ids 400", async () => {
  const h = await startGateway();
  try {
    const plain = await fetch(`${h.http}/ws/stream/abc`);
    assert.equal(plain.status, 426);
    await plain.body?.cancel();
    const bad = await rawHandshake(h.port, `/ws/stream/${"x".repeat(200)}?token=${await h.token("abc")}`);
    assert.equal(bad.status, 400);
    const slash = await rawHandshake(h.port, `/ws/stream/a%2Fb`);
    assert.equal(slash.status, 400);
    await h.calls.drain(0);
    assert.equal((await rawHandshake(h.port, path("late", await h.token("late")))).status, 503);
    const m = await h.metrics();
    assert.equal(metricValue(m, "tom_gateway_rejected_connections_total", { reason: "draining" }), 1);
    assert.equal(metricValue(m, "tom_gateway_rejected_connections_total", { reason: "not_websocket" }), 1);
    assert.equal(metricValue(m, "tom_gateway_rejected_connections_total", { reason: "bad_request" }), 2);
  } finally {
    await h.close();
  }
});

Deno.test("a fresh token for a call id that was already used cannot start a second call", async () => {
  const h = await startGateway();
  try {
    const first = new TestClient(`${h.ws}${path("once", await h.token("once"))}`);
    await first.event("connected");
    first.send({ type: "start" });
    await first.event("streaming_started");
    first.send({ type: "stop" });
    await first.closed;
    const second = new TestClient(`${h.ws}${path("once", await h.token("once"))}`);
    await second.event("connected");
    second.send({ type: "start" });
    const err = await second.event("error");
    assert.equal(err.code, "call_exists");
    assert.equal((await second.closed).code, 1008);
  } finally {
    await h.close();
  }
});
