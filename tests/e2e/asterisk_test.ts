/**
 * A real Asterisk (Debian sid in a debootstrap chroot) calls TOM over AudioSocket and over chan_websocket:
 * TOM receives the caller's audio (its timing and level are checked against what Asterisk played), and
 * what TOM sends back is what Asterisk records (the echo answerer's 1 kHz greeting, and the caller's own
 * tone echoed: frequency, level, duration, delay).
 *
 * Skipped, with the reason printed, only when the chroot cannot be built (not root, no network); in CI
 * (`CI=true`) that is a failure. The chroot comes from infra/asterisk/provision.ts (cached; about a minute
 * the first time, with progress on stderr).
 *
 * Timing margins are generous on purpose (2 shared cores, other test files running in parallel) and are
 * explained where they are asserted; the measured values are printed.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { AsteriskChroot } from "../../infra/asterisk/provision.ts";
import { asteriskChroot } from "../_rigs/asterisk/chroot.ts";
import { AsteriskInstance, CALLER_TONE } from "../_rigs/asterisk/instance.ts";
import { type Route, ROUTES } from "../_rigs/asterisk/config.ts";
import type { Answerer, CallEvent } from "../../gateway/call/contract.ts";
import { echoAnswerer, GREETING_TONE } from "../../gateway/call/echo.ts";
import { mountAsteriskWebSocket } from "../../gateway/asterisk/websocket.ts";
import { type AudioSocketServer, startAudioSocketServer } from "../../gateway/asterisk/audiosocket.ts";
import { getCall, type Store } from "../../store/mod.ts";
import { defaultAccountId } from "../../gateway/call/session.ts";
import { startGateway } from "../gateway/server_harness.ts";
import { findTone, levelBetween, sineDb, type ToneSegment } from "./asterisk_audio.ts";

const CI = Deno.env.get("CI") === "true";
const { chroot, unavailable } = await asteriskChroot("the Asterisk end-to-end test");

/** One call as the answering stage saw it. */
interface SeenCall {
  callId: string;
  transport: string;
  meta: Record<string, unknown>;
  frames: { pcm: Int16Array; atMs: number; arrived: number }[];
  digits: string[];
  marks: string[];
  stop?: string;
  stopped: Promise<void>;
}

/** The echo answerer, with every event it gets recorded. */
function recordingAnswerer(calls: SeenCall[]): Answerer {
  const echo = echoAnswerer();
  return (ctx) => {
    const inner = echo(ctx);
    let done = () => {};
    const seen: SeenCall = {
      callId: ctx.callId,
      transport: ctx.transport,
      meta: {},
      frames: [],
      digits: [],
      marks: [],
      stopped: new Promise((r) => (done = r)),
    };
    calls.push(seen);
    return {
      handle(e: CallEvent) {
        if (e.type === "start") seen.meta = e.meta;
        else if (e.type === "audio") {
          seen.frames.push({ pcm: e.pcm, atMs: e.atMs, arrived: performance.now() });
        } else if (e.type === "dtmf") seen.digits.push(e.digit);
        else if (e.type === "mark") seen.marks.push(`${e.name}${e.cleared ? " (cleared)" : ""}`);
        else if (e.type === "stop") {
          seen.stop = e.reason;
          done();
        }
        inner.handle(e);
      },
    };
  };
}

async function waitFor<T>(get: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function concatFrames(frames: { pcm: Int16Array }[]): Int16Array {
  const out = new Int16Array(frames.reduce((n, f) => n + f.pcm.length, 0));
  let at = 0;
  for (const f of frames) {
    out.set(f.pcm, at);
    at += f.pcm.length;
  }
  return out;
}

/** What one call measured, for the printed table. */
interface Measured {
  route: Route;
  received: ToneSegment;
  receivedAtMs: number;
  arrivalSpanMs: number;
  reanchors: number;
  greeting: ToneSegment;
  echo: ToneSegment;
  gapDb: number;
}

const CALLER_DB = sineDb(CALLER_TONE.amplitude);
const GREETING_DB = sineDb(GREETING_TONE.amplitude);

Deno.test({
  name: "a real Asterisk calls TOM over AudioSocket and chan_websocket: audio both ways, DTMF, hang-up",
  ignore: unavailable !== undefined && !CI,
  sanitizeResources: false,
  async fn(t) {
    assert.ok(chroot, `the Asterisk chroot could not be built: ${unavailable}`);
    const calls: SeenCall[] = [];
    let audioSocket: AudioSocketServer | undefined;
    const gw = await startGateway({
      answer: recordingAnswerer(calls),
      transports: [
        (app, deps, guard) => mountAsteriskWebSocket(app, deps, guard),
        async (_app, deps, guard) => (audioSocket = await startAudioSocketServer(deps, guard, { port: 0 })),
      ],
    });
    const as = audioSocket as AudioSocketServer;
    const asterisk = await AsteriskInstance.start({
      chroot: chroot as AsteriskChroot,
      audioSocket: { host: "127.0.0.1", port: as.addr.port },
      http: { host: "127.0.0.1", port: gw.port },
    }).catch(async (e) => {
      await gw.close();
      throw e;
    });
    const measured: Measured[] = [];
    try {
      const routes: [Route, string, string][] = [
        [ROUTES.audiosocket, "audiosocket", "slin 8 kHz (kind 0x10)"],
        [ROUTES.audiosocket16, "audiosocket", "slin 16 kHz (kind 0x12)"],
        [ROUTES.websocket, "chan_websocket", "ulaw, plain-text control"],
        [ROUTES.websocket16, "chan_websocket", "slin16, JSON control, TOM answers"],
      ];
      for (const [i, [route, transport, what]] of routes.entries()) {
        await t.step(`${route}: ${what}`, async () => {
          const key = String(1001 + i);
          const before = calls.length;
          await asterisk.originate(route, key);
          const call = await waitFor(() => calls[before], `TOM to see the ${route} call`, 15_000);
          await Promise.race([
            call.stopped,
            new Promise((_, reject) => setTimeout(() => reject(new Error("call did not end")), 20_000)),
          ]).catch((e) => {
            throw new Error(`${e.message}\n${asterisk.output.slice(-2000)}`);
          });
          await asterisk.waitIdle(10_000);
          await asterisk.recordingsClosed(key);
          await checkCall(asterisk, key, route, transport, call, gw.store, (m) => {
            measured.push(m);
            console.log(table([m]));
          });
        });
      }
    } finally {
      await asterisk.stop();
      await gw.close();
    }
    console.log(table(measured));
  },
});

async function checkCall(
  asterisk: AsteriskInstance,
  key: string,
  route: Route,
  transport: string,
  call: SeenCall,
  store: Store,
  report: (m: Measured) => void,
): Promise<void> {
  const heard = await asterisk.recording(key, "heard");
  const pcm = concatFrames(call.frames);
  const received = findTone(pcm, 16_000, CALLER_TONE.hz);
  const greeting = findTone(heard.pcm, heard.rate, GREETING_TONE.hz);
  const echo = findTone(heard.pcm, heard.rate, CALLER_TONE.hz);
  assert.ok(received, `TOM received the ${CALLER_TONE.hz} Hz tone`);
  assert.ok(greeting, "Asterisk recorded TOM's greeting");
  assert.ok(echo, "Asterisk recorded the echo of the caller's tone");
  // Call time of the tone's first sample: the frame holding the onset, plus the onset's place in it.
  const firstFrame = Math.floor((received.startMs * 16) / 320);
  const lastFrame = Math.min(call.frames.length - 1, Math.floor((received.endMs * 16) / 320));
  const receivedAtMs = call.frames[firstFrame].atMs + (received.startMs - firstFrame * 20);
  const arrivalSpanMs = call.frames[lastFrame].arrived - call.frames[firstFrame].arrived;
  const steps = call.frames.slice(1).map((f, i) => f.atMs - call.frames[i].atMs);
  const reanchors = steps.filter((d) => d !== 20).length;
  const gapDb = levelBetween(heard.pcm, heard.rate, greeting.endMs + 40, echo.startMs - 40);
  report({ route, received, receivedAtMs, arrivalSpanMs, reanchors, greeting, echo, gapDb });

  assert.equal(call.transport, transport);
  // DTMF from SendDTMF(12#), in order; the echo answerer hangs up on #.
  assert.deepEqual(call.digits, ["1", "2", "#"]);
  assert.equal(call.stop, "caller pressed #");
  assert.deepEqual(call.marks, ["greeting"]);
  const record = getCall(store, defaultAccountId(store), call.callId);
  assert.equal(record?.transport, transport);
  assert.equal(record?.status, "completed");

  // 1. What TOM received: the caller's tone, resampled to 16 kHz.
  assert.ok(Math.abs(received.hz - CALLER_TONE.hz) < 3, `received frequency ${received.hz} Hz`);
  // Resampling 8 -> 16 kHz (and mu-law) keeps the level within a fraction of a dB.
  assert.ok(Math.abs(received.toneDb - CALLER_DB) < 0.6, `received level ${received.toneDb} dBFS`);
  // Sample-exact: the caller's sound is 1.5 s of silence, then the tone; in the stream TOM received
  // (from its first frame, which is the sound's first) the tone starts at 1500 ms and lasts 1000 ms, to a
  // few ms (measured +6.3 ms: the resampler's delay and the 5 ms fade-in). A lost, doubled or reordered
  // frame would be 20 ms off.
  assert.ok(
    Math.abs(received.startMs - CALLER_TONE.beforeMs) < 15,
    `tone at ${received.startMs} ms of the received stream, played at ${CALLER_TONE.beforeMs}`,
  );
  assert.ok(
    Math.abs(received.durationMs - CALLER_TONE.ms) < 10,
    `received ${received.durationMs} ms of a ${CALLER_TONE.ms} ms tone`,
  );
  // Call time: frames are 20 ms apart on TOM's clock, except where a pause of Asterisk's re-anchored it
  // (never backwards, never overlapping).
  assert.ok(steps.every((d) => d >= 20), `frame steps ${[...new Set(steps)].join(",")}`);
  // Real-time delivery, not a burst: the tone's frames arrived over about its duration (a burst takes
  // a few ms). 200 ms of slack for scheduling on a loaded 2-core box.
  const spanExpected = (lastFrame - firstFrame) * 20;
  assert.ok(
    Math.abs(arrivalSpanMs - spanExpected) < 200,
    `frames of ${spanExpected} ms arrived over ${arrivalSpanMs} ms`,
  );

  // 2. What Asterisk heard (MixMonitor with `n`: exactly the frames the caller received): the greeting
  // tone, silence, the echo of the caller's tone.
  assert.ok(Math.abs(greeting.hz - GREETING_TONE.hz) < 3, `greeting frequency ${greeting.hz} Hz`);
  assert.ok(Math.abs(greeting.toneDb - GREETING_DB) < 0.6, `greeting level ${greeting.toneDb} dBFS`);
  // TOM queued the greeting at once and paces it without a gap: its length is kept to a few ms (the
  // fades). 25 ms leaves room for one frame Asterisk itself might drop on a loaded box.
  assert.ok(
    Math.abs(greeting.durationMs - GREETING_TONE.ms) < 25,
    `greeting lasted ${greeting.durationMs} ms`,
  );
  assert.ok(
    greeting.durationMs - greeting.coverageMs < 25,
    `greeting has gaps: ${greeting.coverageMs} ms of tone`,
  );
  assert.ok(Math.abs(echo.hz - CALLER_TONE.hz) < 3, `echo frequency ${echo.hz} Hz`);
  // Two resampling passes (and mu-law twice on chan_websocket): within 1 dB.
  assert.ok(Math.abs(echo.toneDb - CALLER_DB) < 1, `echo level ${echo.toneDb} dBFS`);
  // All of the tone comes back. The echo is sent just in time, frame by frame as it arrives, so when
  // Asterisk hands TOM a burst of late frames (it does on a busy 2-core box, mostly through
  // chan_audiosocket) a silence frame can fall between them: the tone's span may stretch by a few
  // frames, its coverage may not shrink.
  assert.ok(
    Math.abs(echo.coverageMs - received.durationMs) < 25,
    `echo: ${echo.coverageMs} ms of tone, TOM received ${received.durationMs} ms`,
  );
  assert.ok(echo.durationMs - received.durationMs < 200, `echo stretched to ${echo.durationMs} ms`);
  assert.ok(gapDb < -60, `silence between greeting and echo at ${gapDb} dBFS`);
}

function table(rows: Measured[]): string {
  const f = (n: number, d = 1) => n.toFixed(d);
  const lines = [
    "Asterisk end-to-end measurements (ms, dBFS; caller tone " +
    `${CALLER_TONE.hz} Hz at ${f(CALLER_DB, 2)} dBFS, greeting ${GREETING_TONE.hz} Hz at ${
      f(GREETING_DB, 2)
    } dBFS)`,
    "route         | rx tone at | rx pos | rx dur | rx level | rx span | jumps | greet dur | greet lvl | " +
    "echo tone | echo span | echo lvl | gap",
  ];
  for (const r of rows) {
    lines.push(
      [
        r.route.padEnd(13),
        f(r.receivedAtMs).padStart(10),
        f(r.received.startMs).padStart(6),
        f(r.received.durationMs).padStart(6),
        f(r.received.toneDb, 2).padStart(8),
        f(r.arrivalSpanMs).padStart(7),
        String(r.reanchors).padStart(5),
        f(r.greeting.durationMs).padStart(9),
        f(r.greeting.toneDb, 2).padStart(9),
        f(r.echo.coverageMs).padStart(9),
        f(r.echo.durationMs).padStart(9),
        f(r.echo.toneDb, 2).padStart(8),
        f(r.gapDb, 0).padStart(4),
      ].join(" | "),
    );
  }
  return lines.join("\n");
}
