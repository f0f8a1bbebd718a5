/**
 * Fail-open on the real Asterisk 22 of the end-to-end tests (the Debian sid chroot): the `tom` context
 * (tests/_rigs/asterisk/config.ts, the same as the shipped infra/deploy/asterisk/extensions.conf) sends a
 * call TOM cannot take to `tom-fallback`, whose test phone answers and plays its tone; the caller's own
 * recording holds that tone, so the caller reached the fallback. (a) TOM stopped (nothing listens on its
 * AudioSocket or HTTP port), (b) TOM at its maximum (`TOM_MAX_CALLS=1`, one call held open), on every
 * route; (c) a call TOM ends with its goodbye does not reach the fallback.
 *
 * Prints the fallback time per route (from the originate to the fallback phone's channel, polled with
 * `core show channels concise`): measured, never asserted.
 *
 * Skipped, with the reason printed, only when the chroot cannot be built; in CI (`CI=true`) that fails.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { AsteriskChroot } from "../../infra/asterisk/provision.ts";
import { asteriskChroot } from "../_rigs/asterisk/chroot.ts";
import { AsteriskInstance, TARGET_TONE } from "../_rigs/asterisk/instance.ts";
import { type Route, ROUTES } from "../_rigs/asterisk/config.ts";
import type { Answerer, CallContext } from "../../gateway/call/contract.ts";
import { mountAsteriskWebSocket } from "../../gateway/asterisk/websocket.ts";
import { type AudioSocketServer, startAudioSocketServer } from "../../gateway/asterisk/audiosocket.ts";
import { metricValue, startGateway } from "../gateway/server_harness.ts";
import { findTone } from "./asterisk_audio.ts";

const CI = Deno.env.get("CI") === "true";
/** How long a "goodbye" call lasts before TOM hangs up (TOM greets first; more than the 1.5 s rule). */
const GOODBYE_AFTER_MS = 2500;

const { chroot, unavailable } = await asteriskChroot("the Asterisk fail-open test");

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

const ALL: [Route, string][] = [
  [ROUTES.audiosocket, "AudioSocket()"],
  [ROUTES.audiosocket16, "Dial(AudioSocket/...)"],
  [ROUTES.websocket, "chan_websocket"],
  [ROUTES.websocket16, "chan_websocket, JSON, TOM answers"],
];

let key = 5000;
/**
 * Place a call on `route` and wait until it is over (down to `baseline` channels: a held call stays); whether
 * the caller heard the fallback phone's tone, and when (ms after the originate) its channel first showed.
 */
async function call(
  asterisk: AsteriskInstance,
  route: Route,
  baseline = 0,
): Promise<{ reached: boolean; ms?: number; saw: string }> {
  const callKey = String(++key);
  const t0 = performance.now();
  await asterisk.originate(route, callKey);
  let ms: number | undefined;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const shown = await asterisk.cli("core show channels concise");
    if (ms === undefined && shown.includes("tom-phones")) ms = performance.now() - t0;
    const count = shown.split("\n").filter((l) => l.includes("!")).length;
    if (count <= baseline && performance.now() - t0 > 500) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await asterisk.recordingsClosed(callKey);
  const heard = await asterisk.recording(callKey, "heard");
  const tone = findTone(heard.pcm, heard.rate, TARGET_TONE.hz);
  const saw = `heard ${((heard.pcm.length * 1000) / heard.rate).toFixed(0)} ms, ` +
    (tone
      ? `the tone ${tone.startMs.toFixed(0)}-${tone.endMs.toFixed(0)} ms (${
        tone.coverageMs.toFixed(0)
      } ms there)`
      : "no tone") +
    `, the fallback phone's channel ${ms === undefined ? "never seen" : `after ${ms.toFixed(0)} ms`}`;
  return { reached: tone !== undefined && tone.endMs - tone.startMs > 1000, ms, saw };
}

Deno.test({
  name: "a call TOM cannot take reaches the fallback on a real Asterisk 22; one TOM ended does not",
  ignore: unavailable !== undefined && !CI,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    assert.ok(chroot, `the Asterisk chroot could not be built: ${unavailable}`);
    const timings: string[] = [];
    const start = { chroot: chroot as AsteriskChroot, cued: true };

    await t.step("(a) TOM stopped: every route reaches the fallback", async () => {
      const asterisk = await AsteriskInstance.start({
        ...start,
        audioSocket: { host: "127.0.0.1", port: freePort() },
        http: { host: "127.0.0.1", port: freePort() },
      });
      try {
        for (const [route, how] of ALL) {
          const r = await call(asterisk, route);
          assert.ok(r.reached, `${route} (${how}): the caller never reached the fallback (${r.saw})`);
          timings.push(
            `  TOM stopped  ${route.padEnd(14)} ${r.ms?.toFixed(0)} ms`,
          );
        }
      } finally {
        await asterisk.stop();
      }
    });

    const calls: { ctx: CallContext; stopped: Promise<string> }[] = [];
    let mode: "hold" | "goodbye" = "hold";
    const answer: Answerer = (ctx) => {
      let done: (r: string) => void = () => {};
      calls.push({ ctx, stopped: new Promise((r) => (done = r)) });
      const timer = mode === "goodbye"
        ? setTimeout(() => ctx.output.hangup("goodbye"), GOODBYE_AFTER_MS)
        : undefined;
      return {
        handle: (e) => {
          if (e.type !== "stop") return;
          clearTimeout(timer);
          done(e.reason);
        },
      };
    };
    let audioSocket: AudioSocketServer | undefined;
    const gw = await startGateway({
      answer,
      env: { TOM_MAX_CALLS: "1" },
      transports: [
        (app, deps, guard) => mountAsteriskWebSocket(app, deps, guard),
        async (_app, deps, guard) => (audioSocket = await startAudioSocketServer(deps, guard, { port: 0 })),
      ],
    });
    const asterisk = await AsteriskInstance.start({
      ...start,
      audioSocket: { host: "127.0.0.1", port: (audioSocket as AudioSocketServer).addr.port },
      http: { host: "127.0.0.1", port: gw.port },
    }).catch(async (e) => {
      await gw.close();
      throw e;
    });
    try {
      await t.step(
        "(b) TOM at TOM_MAX_CALLS=1 with one call held: the next call reaches the fallback",
        async () => {
          mode = "hold";
          await asterisk.originate(ROUTES.audiosocket16, String(++key));
          const until = Date.now() + 15_000;
          while (gw.calls.size < 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
          assert.equal(gw.calls.size, 1, "TOM did not take the held call");
          const held = calls[0];
          await new Promise((r) => setTimeout(r, 500)); // the held call's channels are all up
          const baseline = await asterisk.activeChannels();
          for (const [route, how] of ALL) {
            const r = await call(asterisk, route, baseline);
            assert.ok(r.reached, `${route} (${how}): the caller never reached the fallback (${r.saw})`);
            timings.push(
              `  TOM full     ${route.padEnd(14)} ${r.ms?.toFixed(0)} ms`,
            );
          }
          assert.equal(calls.length, 1, "TOM took a call beyond its maximum");
          const metrics = await gw.metrics();
          for (const transport of ["audiosocket", "chan_websocket"]) {
            assert.ok(
              metricValue(metrics, "tom_calls_refused_total", { transport, reason: "full" }) >= 2,
              `refusals of ${transport} not counted:\n${metrics}`,
            );
          }
          held.ctx.output.hangup("test over");
          await held.stopped;
          await asterisk.waitIdle(15_000);
        },
      );

      await t.step("(c) a call TOM ends with its goodbye hangs up, without the fallback", async () => {
        mode = "goodbye";
        for (const [route, how] of ALL) {
          const before = calls.length;
          const r = await call(asterisk, route);
          assert.equal(calls.length, before + 1, `${route} (${how}): TOM saw no call`);
          assert.equal(await calls[before].stopped, "goodbye");
          assert.ok(
            !r.reached && r.ms === undefined,
            `${route} (${how}): a call TOM ended went to the fallback`,
          );
        }
      });
    } finally {
      console.log("fallback time, originate -> the fallback phone's channel is up (polled every ~50 ms):");
      for (const line of timings) console.log(line);
      await asterisk.stop();
      await gw.close();
    }
  },
});
