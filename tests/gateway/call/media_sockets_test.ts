// The registry of a WebSocket media transport's open calls (gateway/call/media_sockets.ts), on stand-in
// sockets and a stand-in guard: what a transport's shutdown and the guard's refusals reach.
import assert from "node:assert/strict";
import { silentLogger } from "../../../infra/log.ts";
import { MediaSockets, type SocketCall } from "../../../gateway/call/media_sockets.ts";
import type { GatewayDeps } from "../../../gateway/call/session.ts";
import type { Guard, SocketLimiter } from "../../../gateway/guard/mod.ts";

/** Just enough of a server-side WebSocket for the registry and the guard. */
class StandInSocket extends EventTarget {
  binaryType = "blob";
  readyState: number = WebSocket.OPEN;
  closedWith: number | undefined;
  close(code: number): void {
    this.readyState = WebSocket.CLOSED;
    this.closedWith = code;
    this.dispatchEvent(new Event("close"));
  }
  message(data: string): void {
    this.dispatchEvent(new MessageEvent("message", { data }));
  }
}

class RecordingCall implements SocketCall {
  received: (string | ArrayBuffer)[] = [];
  said: string[] = [];
  receive(data: string | ArrayBuffer): void {
    this.received.push(data);
  }
  stopSending(): void {
    this.said.push("stop sending");
  }
  hangup(reason: string): void {
    this.said.push(`hang up: ${reason}`);
  }
}

// Messages over 10 bytes are too big; the rest pass.
const limiter: SocketLimiter = { maxBytes: 10, admit: (n) => (n > 10 ? "size" : "ok") };
// Only socketLimiter is used once a socket is upgraded: the stand-in needs nothing else.
const guard = { socketLimiter: () => limiter } as unknown as Guard;
const deps = { log: silentLogger } as unknown as GatewayDeps;

function upgraded(registry: MediaSockets<RecordingCall>) {
  const socket = new StandInSocket();
  const call = new RecordingCall();
  const response = new Response(null);
  const returned = registry.register(
    { socket: socket as unknown as WebSocket, response, remote: undefined },
    call,
  );
  assert.equal(returned, response, "the route answers with the upgrade's response");
  return { socket, call };
}

Deno.test("media sockets: counted until closed, messages reach the call, shutdown hangs up the open ones", async () => {
  const registry = new MediaSockets<RecordingCall>(deps, "chan_websocket", guard);
  await registry.ready();
  const a = upgraded(registry);
  const b = upgraded(registry);
  assert.equal(registry.size, 2);
  a.socket.message("hallo");
  assert.deepEqual(a.call.received, ["hallo"]);
  b.socket.close(1000);
  assert.equal(registry.size, 1, "a closed socket leaves the registry");
  registry.hangupAll();
  assert.deepEqual(a.call.said, ["hang up: shutting down"]);
  assert.deepEqual(b.call.said, [], "a call already gone is not hung up again");
});

Deno.test("media sockets: a message the guard refuses stops the call sending, then closes with 1009", async () => {
  const registry = new MediaSockets<RecordingCall>(deps, "twilio", guard);
  const { socket, call } = upgraded(registry);
  socket.message("viel zu lange Nachricht");
  assert.deepEqual(call.said, ["stop sending"]);
  assert.deepEqual(call.received, []);
  const deadline = Date.now() + 2000;
  while (socket.closedWith === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(socket.closedWith, 1009);
  assert.equal(registry.size, 0);
});
