/**
 * 10,000 random and malformed messages against the browser transport: nothing crashes, every close is
 * a policy close (never 1011 or an abnormal one), `/healthz` answers throughout, and a normal call works
 * afterwards.
 */
import assert from "node:assert/strict";
import { parseClientMessage } from "../../../gateway/call/messages.ts";
import { fuzzMessages } from "../_fuzz.ts";
import { startGateway, TestClient, waitUntil } from "../server_harness.ts";

const TEMPLATES = [
  { type: "start" },
  { type: "start", sampleRate: 16_000, encoding: "pcm16le" },
  { type: "stop", reason: "bye" },
  { type: "dtmf", digit: "5" },
  { type: "ping", id: 7 },
];
const TOTAL = 10_000;

Deno.test("10,000 random or malformed messages crash nothing and /healthz answers throughout", async () => {
  // The rate limit and the invalid-message limit are lifted so that the server reads and answers every
  // message: the content is what is fuzzed here (floods and the 1008 limit: attack_flood_test).
  const h = await startGateway({
    env: { TOM_GATEWAY_MESSAGES_PER_SECOND: "100000" },
    browser: { maxInvalidMessages: 1_000_000 },
  });
  let fuzzing = true;
  const health: number[] = [];
  const prober = (async () => {
    while (fuzzing) {
      const r = await fetch(`${h.http}/healthz`);
      health.push(r.status);
      await r.body?.cancel();
      await new Promise((res) => setTimeout(res, 25));
    }
  })();
  const codes = new Map<number, number>();
  const messages = fuzzMessages({ seed: 20261121, count: TOTAL, templates: TEMPLATES });
  let sent = 0;
  let errors = 0;
  let connections = 0;
  try {
    while (sent < TOTAL) {
      const callId = `fuzz-${connections++}`;
      const c = new TestClient(`${h.ws}/ws/stream/${callId}?token=${await h.token(callId)}`);
      await c.event("connected");
      if (connections % 2 === 0) c.send({ type: "start" });
      // Up to 500 messages per connection. A valid `stop` ends the call, so it is the connection's last
      // message (a client that goes on sending after the server's close sees a reset, not a close code).
      let stopped = false;
      for (let i = 0; i < 500 && sent < TOTAL && !stopped; i++) {
        const m = messages.next();
        if (m.done) break;
        c.socket.send(m.value);
        sent++;
        stopped = typeof m.value === "string" && isStop(m.value);
      }
      if (!stopped) c.send({ type: "ping", id: "sync" });
      await c.until(
        () =>
          c.events.some((e) => e.type === "pong" && e.id === "sync") ||
          c.socket.readyState === WebSocket.CLOSED,
        "the server to read every message",
      );
      errors += c.events.filter((e) => e.type === "error").length;
      const closed = await c.close();
      codes.set(closed.code, (codes.get(closed.code) ?? 0) + 1);
    }
  } finally {
    fuzzing = false;
    await prober;
  }
  try {
    // Closes: 1000 (a fuzzed `stop`, or the client's own close), 1005 (closed without a code). Never
    // 1011 (a handler crash) or an abnormal closure.
    for (const code of codes.keys()) assert.ok([1000, 1005].includes(code), `close code ${code}`);
    // Most fuzz messages are invalid, and each was read and answered with an error event.
    assert.ok(errors > TOTAL / 2, `${errors} error events`);
    assert.ok(
      health.length > 0 && health.every((s) => s === 200),
      `healthz statuses ${[...new Set(health)]}`,
    );
    assert.deepEqual(h.logs.filter((l) => l.level === "error"), []);
    assert.equal(({} as Record<string, unknown>).polluted, undefined, "no prototype pollution");

    // The server still serves a normal call.
    const c = new TestClient(`${h.ws}/ws/stream/after-fuzz?token=${await h.token("after-fuzz")}`);
    await c.event("connected");
    c.send({ type: "start" });
    await c.event("mark");
    assert.equal(c.frames.length, 50);
    await c.close();
    await waitUntil(() => h.calls.size === 0, "every call to end");
  } finally {
    await h.close();
  }
});

function isStop(text: string): boolean {
  const r = parseClientMessage(text);
  return r.ok && r.message.type === "stop";
}
