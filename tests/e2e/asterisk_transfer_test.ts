/**
 * Cold transfer of Asterisk calls through AMI, against the real Asterisk 22 of the end-to-end tests (the
 * Debian sid chroot, infra/asterisk/provision.ts): a call that reached TOM over AudioSocket (both routes)
 * and over chan_websocket (both routes) is redirected by TOM's AMI client (gateway/asterisk/ami.ts) to the
 * test's `tom-transfer` context (tests/_rigs/asterisk/config.ts), whose target answers and plays its tone:
 * the caller's own recording holds that tone, so the caller arrived there. A busy, an unanswered and an
 * unreachable target come back as ok:false with their reason within the bound (an AudioSocket caller then
 * comes back to TOM as a call linked to the first); a signal that ends first
 * gives `timeout`; AMI on a wrong port or with a wrong secret fails at once.
 *
 * Prints the transfer time (from `transfer()` to the target's answer, `DialEnd ANSWER`) per route: measured,
 * never asserted.
 *
 * Skipped, with the reason printed, only when the chroot cannot be built; in CI (`CI=true`) that fails.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { AsteriskChroot } from "../../infra/asterisk/provision.ts";
import { asteriskChroot } from "../_rigs/asterisk/chroot.ts";
import { createLogger } from "../../infra/mod.ts";
import { AsteriskInstance, TARGET_TONE } from "../_rigs/asterisk/instance.ts";
import { type Route, ROUTES, TEST_DIAL_S, TEST_PHONES } from "../_rigs/asterisk/config.ts";
import type { Answerer, CallContext, TransferOutcome, TransferTo } from "../../gateway/call/contract.ts";
import { mountAsteriskWebSocket } from "../../gateway/asterisk/websocket.ts";
import { type AudioSocketServer, startAudioSocketServer } from "../../gateway/asterisk/audiosocket.ts";
import { AmiClient } from "../../gateway/asterisk/ami.ts";
import { amiTransferer, type AsteriskCallRef } from "../../gateway/asterisk/ami_transfer.ts";
import { amiCallerNumber } from "../../gateway/asterisk/ami_caller.ts";
import { startGateway } from "../gateway/server_harness.ts";
import { findTone } from "./asterisk_audio.ts";

const CI = Deno.env.get("CI") === "true";
const USER = "tom";
const SECRET = "transfer-test-secret-0123456789";

const { chroot, unavailable } = await asteriskChroot("the Asterisk transfer test");

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

const log = createLogger({ salt: "test-salt", level: "warn", sink: () => {} });

Deno.test({
  name:
    "AMI transfers AudioSocket and chan_websocket calls on a real Asterisk 22 and reports the target's outcome",
  ignore: unavailable !== undefined && !CI,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    assert.ok(chroot, `the Asterisk chroot could not be built: ${unavailable}`);
    const amiPort = freePort();
    const ami = new AmiClient({ host: "127.0.0.1", port: amiPort, username: USER, secret: SECRET, log });
    const timings: { route: string; redirectMs: number; outcomeMs: number }[] = [];
    const transfer = amiTransferer(ami, {
      context: "tom-transfer",
      log,
      onTiming: (x) => timings.push({ route: "", redirectMs: x.redirectMs, outcomeMs: x.outcomeMs }),
    });
    // The caller ID, asked of the same AMI connection when a call arrives (app/serve.ts wires it so).
    const callerId = (ref: AsteriskCallRef) => amiCallerNumber(ami, ref);
    const calls: { ctx: CallContext; stopped: Promise<string>; meta: Record<string, unknown> }[] = [];
    const answer: Answerer = (ctx) => {
      let done: (r: string) => void = () => {};
      const call = { ctx, stopped: new Promise<string>((r) => (done = r)), meta: {} };
      calls.push(call);
      return {
        handle: (e) => {
          if (e.type === "start") call.meta = e.meta;
          if (e.type === "stop") done(e.reason);
        },
      };
    };
    let audioSocket: AudioSocketServer | undefined;
    const gw = await startGateway({
      answer,
      transports: [
        (app, deps, guard) => mountAsteriskWebSocket(app, deps, guard, { transfer, callerId }),
        async (
          _app,
          deps,
          guard,
        ) => (audioSocket = await startAudioSocketServer(deps, guard, { port: 0, transfer, callerId })),
      ],
    });
    const asterisk = await AsteriskInstance.start({
      chroot: chroot as AsteriskChroot,
      audioSocket: { host: "127.0.0.1", port: (audioSocket as AudioSocketServer).addr.port },
      http: { host: "127.0.0.1", port: gw.port },
      manager: { port: amiPort, user: USER, secret: SECRET },
      cued: true, // the caller stays on the line (playing silence) until the call ends
    }).catch(async (e) => {
      await gw.close();
      throw e;
    });
    let key = 3000;
    /** Place a call on `route`, wait until TOM has it, transfer it to `to`; the outcome and its time. */
    const transferCall = async (route: Route, to: TransferTo, boundMs: number, callerNumber?: string) => {
      const before = calls.length;
      const callKey = String(++key);
      await asterisk.originate(route, callKey, callerNumber);
      const deadline = Date.now() + 15_000;
      while (calls.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const call = calls[before];
      assert.ok(call, `TOM saw no call on ${route}:\n${asterisk.output.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 500)); // the call is up (chan_websocket: bridged after ANSWER)
      assert.ok(call.ctx.output.transfer, "the Asterisk output offers transfer");
      const t0 = performance.now();
      const outcome: TransferOutcome = await call.ctx.output.transfer(to, AbortSignal.timeout(boundMs));
      const ms = performance.now() - t0;
      return { outcome, ms, call, callKey };
    };

    try {
      // The client tried before Asterisk was up: it is in backoff and logs in at its next attempt.
      const until = Date.now() + 15_000;
      while (ami.state !== "connected" && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      assert.equal(ami.state, "connected", `AMI did not log in: ${ami.lastError}`);

      const answered: [Route, string][] = [
        [ROUTES.audiosocket, "AudioSocket()"],
        [ROUTES.audiosocket16, "Dial(AudioSocket/...)"],
        [ROUTES.websocket, "chan_websocket"],
        [ROUTES.websocket16, "chan_websocket, JSON, TOM answers"],
      ];
      for (const [i, [route, how]] of answered.entries()) {
        await t.step(`${route} (${how}): the caller is redirected and arrives at the target`, async () => {
          // The caller's number reaches TOM although neither transport carries it (asked of AMI).
          const number = `03012345${60 + i}`;
          const r = await transferCall(
            route,
            { kind: "extension", target: TEST_PHONES.answers },
            15_000,
            number,
          );
          timings[timings.length - 1].route = route;
          assert.equal(r.call.ctx.callerId, number, `${route}: the caller ID TOM got`);
          assert.deepEqual(r.outcome, { ok: true });
          // The caller left TOM: its transport ended the call.
          const reason = await Promise.race([
            r.call.stopped,
            new Promise<string>((_, rej) =>
              setTimeout(() => rej(new Error("TOM's call did not stop")), 5000)
            ),
          ]);
          assert.ok(reason.length > 0);
          await asterisk.waitIdle(15_000);
          // The target's tone is in what the caller heard: it was connected to the target.
          await asterisk.recordingsClosed(r.callKey);
          const heard = await asterisk.recording(r.callKey, "heard");
          const tone = findTone(heard.pcm, heard.rate, TARGET_TONE.hz);
          assert.ok(tone, `the caller never heard the target's ${TARGET_TONE.hz} Hz tone`);
          assert.ok(
            tone.endMs - tone.startMs > 1000,
            `the target's tone lasted ${tone.endMs - tone.startMs} ms`,
          );
        });
      }

      const failing: [Route, string, string, number][] = [
        [ROUTES.audiosocket16, TEST_PHONES.busy, "busy", 10_000],
        [ROUTES.websocket, TEST_PHONES.noAnswer, "no_answer", 10_000],
        [ROUTES.audiosocket, TEST_PHONES.unreachable, "unreachable", 10_000],
        [ROUTES.websocket16, TEST_PHONES.noAnswer, "timeout", 1500],
      ];
      // Without a number (withheld): the call opens without one.
      for (const [route, target, reason, bound] of failing) {
        await t.step(`${route}: target ${target} -> ${reason} within ${bound} ms`, async () => {
          const r = await transferCall(route, { kind: "extension", target }, bound);
          assert.equal(r.call.ctx.callerId, null, `${route}: a withheld number`);
          assert.equal(r.outcome.ok, false);
          assert.equal(!r.outcome.ok && r.outcome.reason, reason, JSON.stringify(r.outcome));
          console.log(`  ${route} -> ${target}: ${reason} after ${r.ms.toFixed(0)} ms (bound ${bound} ms)`);
          if (reason === "no_answer") {
            assert.ok(r.ms >= TEST_DIAL_S * 1000 - 500, "NOANSWER before the ring time");
          }
          {
            // The caller comes back to TOM (tom-transfer -> tom,tom-return with TOM_RETURN), linked, whichever
            // transport carried the first call (the way back is AudioSocket).
            const until = Date.now() + 10_000;
            let back: typeof calls[number] | undefined;
            while (!back && Date.now() < until) {
              back = calls.find((c) => c.meta.returnedFromTransfer === true && !c.ctx.signal.aborted);
              if (!back) await new Promise((res) => setTimeout(res, 20));
            }
            assert.ok(back, `the caller did not come back to TOM:\n${asterisk.output.slice(-1500)}`);
            assert.equal(back.meta.previousCallId, r.call.ctx.callId);
            back.ctx.output.hangup("test over");
          }
          await asterisk.waitIdle(20_000);
        });
      }

      await t.step("a target that is no extension is refused before anything reaches Asterisk", async () => {
        const r = await transferCall(
          ROUTES.audiosocket16,
          { kind: "number", target: "21\r\nAction: Logoff" },
          5000,
        );
        assert.deepEqual(r.outcome, { ok: false, reason: "failed", detail: "invalid target" });
        r.call.ctx.output.hangup("test over");
        await asterisk.waitIdle(15_000);
      });

      await t.step("AMI down (wrong port) or a wrong secret: failed at once", async () => {
        for (
          const [what, port, secret] of [["wrong port", freePort(), SECRET], [
            "wrong secret",
            amiPort,
            "nope",
          ]] as const
        ) {
          const other = new AmiClient({ host: "127.0.0.1", port, username: USER, secret, log });
          const down = amiTransferer(other, { context: "tom-transfer", log });
          await new Promise((r) => setTimeout(r, 300)); // its first attempt has failed
          const t0 = performance.now();
          const o = await down.transfer({ transport: "audiosocket", uuid: crypto.randomUUID() }, {
            kind: "extension",
            target: "21",
          }, AbortSignal.timeout(5000));
          const ms = performance.now() - t0;
          await other.close();
          assert.equal(o.ok, false);
          assert.equal(!o.ok && o.reason, "failed", JSON.stringify(o));
          assert.match(!o.ok ? o.detail ?? "" : "", /AMI unavailable/);
          console.log(`  AMI ${what}: failed after ${ms.toFixed(1)} ms (${!o.ok ? o.detail : ""})`);
        }
      });
    } finally {
      console.log("transfer time, transfer() -> DialEnd ANSWER (Redirect answered after):");
      for (const x of timings.filter((x) => x.route !== "")) {
        console.log(
          `  ${x.route.padEnd(14)} ${x.outcomeMs.toFixed(1)} ms (Redirect Success at ${
            x.redirectMs.toFixed(1)
          } ms)`,
        );
      }
      await ami.close();
      await asterisk.stop();
      await gw.close();
    }
  },
});
