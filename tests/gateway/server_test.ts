/**
 * How other transports plug in: a mount hook gets the app, deps and the shared guard; a telephony-style
 * WebSocket route built with `admitWebSocket` + `guardSocket` gets the peer allow-list, the subprotocol
 * echo, the connection gauge and the size/rate limits for free.
 */
import assert from "node:assert/strict";
import type { Hono } from "hono";
import { admitWebSocket, type Guard, guardSocket } from "../../gateway/guard/mod.ts";
import type { GatewayDeps } from "../../gateway/call/session.ts";
import { metricValue, rawHandshake, startGateway, TestClient } from "./server_harness.ts";

/** A stand-in for mountFreeswitch: echo server on /ws/test-fork with mod_audio_fork's subprotocol. */
function mountTestFork(app: Hono, _deps: GatewayDeps, guard: Guard) {
  app.get("/ws/test-fork", (c) => {
    const up = admitWebSocket(c, guard, "freeswitch", { protocol: "audio.drachtio.org" });
    if (up instanceof Response) return up;
    const socket = up.socket;
    guardSocket(socket, guard.socketLimiter("freeswitch"), (data) => socket.send(data));
    return up.response;
  });
  let closed = false;
  return {
    close() {
      closed = true;
    },
    get closed() {
      return closed;
    },
  };
}

Deno.test("a transport hook is mounted with the shared guard and closed with the gateway", async () => {
  let mounted: ReturnType<typeof mountTestFork> | undefined;
  let seenGuard: Guard | undefined;
  const h = await startGateway({
    transports: [(app, deps, guard) => {
      seenGuard = guard;
      return (mounted = mountTestFork(app, deps, guard));
    }],
  });
  assert.equal(seenGuard, h.gateway.guard);
  const c = new TestClient(`${h.ws}/ws/test-fork`, { protocols: ["audio.drachtio.org"] });
  try {
    await c.opened;
    assert.equal(c.socket.protocol, "audio.drachtio.org");
    c.send({ hello: "fork" });
    await c.until(() => c.events.length > 0, "the echo");
    assert.deepEqual(c.events[0], { hello: "fork" });
    assert.equal(metricValue(await h.metrics(), "tom_gateway_connections", { transport: "freeswitch" }), 1);
    // A client offering only another subprotocol is refused before the upgrade.
    const other = await rawHandshake(h.port, "/ws/test-fork", { "Sec-WebSocket-Protocol": "chat" });
    assert.equal(other.status, 400);
    // Oversize on the telephony route: 1009, counted for that transport.
    c.send(new Uint8Array(70_000));
    assert.equal((await c.closed).code, 1009);
    assert.equal(
      metricValue(await h.metrics(), "tom_gateway_oversize_total", { transport: "freeswitch" }),
      1,
    );
  } finally {
    await c.close();
    await h.close();
  }
  assert.equal(mounted?.closed, true);
});

Deno.test("telephony routes accept loopback peers by default and only the configured peers otherwise", async () => {
  const open = await startGateway({ transports: [mountTestFork] });
  try {
    assert.equal((await rawHandshake(open.port, "/ws/test-fork")).status, 101);
    // A request without a known peer address (as under app.request) is refused.
    assert.equal(open.gateway.guard.checkPeer(undefined, "freeswitch"), false);
  } finally {
    await open.close();
  }
  const lan = await startGateway({
    transports: [mountTestFork],
    env: { TOM_GATEWAY_TELEPHONY_PEERS: "10.0.0.0/8" },
  });
  try {
    assert.equal((await rawHandshake(lan.port, "/ws/test-fork")).status, 403);
    assert.equal(
      metricValue(await lan.metrics(), "tom_gateway_rejected_connections_total", {
        transport: "freeswitch",
        reason: "peer",
      }),
      1,
    );
    // The browser route is not peer-restricted: it has its token.
    assert.equal((await rawHandshake(lan.port, `/ws/stream/b1?token=${await lan.token("b1")}`)).status, 101);
  } finally {
    await lan.close();
  }
});
