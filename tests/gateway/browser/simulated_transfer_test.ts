/**
 * A test call's transfer (browser protocol): there is no telephone system, so the transport simulates it:
 * it tells the client what rings (`transfer_ringing`), rings for the configured time, answers `ok` and
 * ends the call with "transferred to a person (test call)"; an abort (timeout, the caller hung up) while
 * it rings answers `timeout` and leaves the call as it is.
 */
import assert from "node:assert/strict";
import type { Answerer, CallContext, CallEvent } from "../../../gateway/call/contract.ts";
import { ServerEvent } from "../../../gateway/call/messages.ts";
import {
  DEFAULT_TEST_TRANSFER_RING_MS,
  ringThenAnswer,
  TRANSFERRED_REASON,
} from "../../../gateway/browser/simulated_transfer.ts";
import { startGateway, TestClient } from "../server_harness.ts";

function scripted(): { answer: Answerer; ctx: Promise<CallContext>; events: CallEvent[] } {
  const events: CallEvent[] = [];
  let resolve: (c: CallContext) => void;
  const ctx = new Promise<CallContext>((r) => (resolve = r));
  return {
    events,
    ctx,
    answer: (c) => {
      resolve(c);
      return { handle: (e) => void events.push(e) };
    },
  };
}

Deno.test("ringThenAnswer answers after the ringing, or `timeout` when aborted first", async () => {
  const t0 = performance.now();
  assert.deepEqual(await ringThenAnswer(40, new AbortController().signal), { ok: true });
  console.log(`rang ${Math.round(performance.now() - t0)} ms (asked 40)`);
  const ac = new AbortController();
  const ringing = ringThenAnswer(60_000, ac.signal);
  ac.abort();
  assert.deepEqual(await ringing, { ok: false, reason: "timeout", detail: "simulated transfer aborted" });
  const gone = AbortSignal.abort();
  assert.equal((await ringThenAnswer(0, gone)).ok, false);
  assert.equal(DEFAULT_TEST_TRANSFER_RING_MS, 1_500);
});

Deno.test("a browser call's transfer rings for the configured time, connects and ends the test call", async () => {
  const s = scripted();
  const h = await startGateway({ answer: s.answer, env: { TOM_GATEWAY_TEST_TRANSFER_RING_MS: "300" } });
  assert.equal(h.config.gateway.testTransferRingMs, 300);
  const c = new TestClient(`${h.ws}/ws/stream/tr-1?token=${await h.token("tr-1")}`);
  try {
    await c.event("connected");
    c.send({ type: "start" });
    const ctx = await s.ctx;
    await c.event("streaming_started");
    assert.ok(ctx.output.transfer, "the browser transport offers transfers");
    let settled = false;
    const t0 = performance.now();
    const outcome = ctx.output.transfer({ kind: "extension", target: "21" }, AbortSignal.timeout(10_000));
    outcome.then(() => (settled = true));
    const ringing = await c.event("transfer_ringing");
    assert.deepEqual(ringing, {
      type: "transfer_ringing",
      kind: "extension",
      target: "21",
      ringMs: 300,
      simulated: true,
    });
    assert.ok(ServerEvent.safeParse(ringing).success);
    // While it rings, the call is still up and the outcome open.
    assert.equal(settled, false);
    assert.equal(c.events.some((e) => e.type === "call_end"), false);
    assert.deepEqual(await outcome, { ok: true });
    console.log(`simulated ringing took ${Math.round(performance.now() - t0)} ms (configured 300)`);
    const end = await c.event("call_end");
    assert.equal(end.reason, TRANSFERRED_REASON);
    const closed = await c.closed;
    assert.equal(closed.code, 1000);
    await c.until(() => s.events.some((e) => e.type === "stop"), "the session's stop");
    assert.ok(s.events.some((e) => e.type === "stop" && e.reason === TRANSFERRED_REASON));
    assert.ok(
      h.logs.some((l) => l.message === "simulated transfer ringing" && l.target_kind === "extension"),
    );
    assert.ok(!JSON.stringify(h.logs).includes('"21"'), "the target is not logged");
  } finally {
    await c.close();
    await h.close();
  }
});

Deno.test("a caller who hangs up while the simulated transfer rings: `timeout`, no transfer", async () => {
  const s = scripted();
  const h = await startGateway({ answer: s.answer, browser: { transferRingMs: 60_000 } });
  const c = new TestClient(`${h.ws}/ws/stream/tr-2?token=${await h.token("tr-2")}`);
  try {
    await c.event("connected");
    c.send({ type: "start" });
    const ctx = await s.ctx;
    await c.event("streaming_started");
    const transfer = ctx.output.transfer;
    assert.ok(transfer, "the browser transport offers transfers");
    const outcome = transfer({ kind: "voicemail", target: "" }, ctx.signal);
    await c.event("transfer_ringing");
    c.send({ type: "stop" });
    assert.deepEqual(await outcome, { ok: false, reason: "timeout", detail: "simulated transfer aborted" });
    const end = await c.event("call_end");
    assert.equal(end.reason, "caller stop");
    // After the call a transfer is refused at once.
    assert.deepEqual(
      await transfer({ kind: "extension", target: "21" }, AbortSignal.timeout(100)),
      {
        ok: false,
        reason: "failed",
        detail: "the call is not live",
      },
    );
  } finally {
    await c.close();
    await h.close();
  }
});
