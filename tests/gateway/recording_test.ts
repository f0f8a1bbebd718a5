/**
 * Call recording through the real CallSession: with consent (and recording on) one stereo WAV per call,
 * caller left and TOM right, sample-exact on a fake clock, TOM's audio cut where a barge-in flushed it;
 * no file without consent, without a known person or with recording off; a file system that fails (no
 * room for the directory, a full disk mid-call) stops only the recording. A real browser call (echo
 * answerer) is recorded and passes `tom qc`.
 */
import assert from "node:assert/strict";
import { metrics } from "@opentelemetry/api";
import { loadConfig } from "../../infra/config.ts";
import { createLogger } from "../../infra/log.ts";
import { CallRegistry } from "../../infra/call_registry.ts";
import { qcMain } from "../../app/commands/qc.ts";
import { emitPipelineEvent, readWav } from "../../gateway/mod.ts";
import {
  createCall,
  createPerson,
  erasePerson,
  getCall,
  openStore,
  type Store,
  updatePerson,
} from "../../store/mod.ts";
import type { Answerer, CallContext, CallOutput } from "../../gateway/call/contract.ts";
import { CallSession, defaultAccountId, type GatewayDeps } from "../../gateway/call/session.ts";
import { dominantFrequency, rmsDbfs, sineWave, toneDbfs } from "../_rigs/levels.ts";
import { startGateway, TestClient } from "./server_harness.ts";

const RATE = 16_000;
const PHONE = "+4917012345678";

interface Rig {
  dir: string;
  store: Store;
  deps: GatewayDeps;
  logs: Record<string, unknown>[];
  clock: { t: number };
  ctx: () => CallContext;
  sent: Int16Array[];
  accountId: string;
  close(): Promise<void>;
}

/** A CallSession's dependencies on a fake clock, with an answerer the test drives through its context. */
async function rig(opts: { enabled?: boolean; consent?: boolean; person?: boolean } = {}): Promise<Rig> {
  const dir = await Deno.makeTempDir({ prefix: "tom-rec-" });
  const config = loadConfig({
    env: { TOM_DATA_DIR: dir, TOM_RECORDING_ENABLED: String(opts.enabled ?? true) },
    cwd: dir,
  });
  const store = openStore(":memory:");
  const logs: Record<string, unknown>[] = [];
  const log = createLogger({ salt: "s", level: "debug", sink: (l) => logs.push(JSON.parse(l)) });
  const clock = { t: 1_700_000_000_000 };
  let context: CallContext | undefined;
  const answer: Answerer = (c) => {
    context = c;
    return { handle: () => {} };
  };
  const accountId = defaultAccountId(store);
  if (opts.person ?? true) {
    createPerson(store, accountId, {
      kind: "patient",
      displayName: "Erika",
      phoneE164: PHONE,
      consentRecording: opts.consent ?? true,
    });
  }
  const deps: GatewayDeps = {
    config,
    store,
    log,
    meter: metrics.getMeter("test"),
    calls: new CallRegistry(),
    answer,
    now: () => clock.t,
  };
  return {
    dir,
    store,
    deps,
    logs,
    clock,
    ctx: () => {
      if (!context) throw new Error("The call has not started");
      return context;
    },
    sent: [],
    accountId,
    async close() {
      store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A transport output that keeps what it was given. */
function fakeOutput(sent: Int16Array[]): CallOutput {
  return {
    audio: (pcm) => void sent.push(pcm),
    mark: () => {},
    clear: () => void sent.push(new Int16Array(0)),
    hangup: () => {},
    queuedMs: 0,
  };
}

function open(r: Rig): CallSession {
  return CallSession.open(r.deps, {
    transport: "twilio",
    direction: "inbound",
    from: PHONE,
    peerRate: 8000,
  }, fakeOutput(r.sent));
}

function tone(freq: number, ms: number, peakDb = -12): Int16Array {
  return sineWave({ freq, rate: RATE, durationMs: ms, peakDb });
}

/** Speech-like: `pcm` in 400 ms bursts with 200 ms pauses (so `tom qc` finds a noise floor). */
function bursts(pcm: Int16Array): Int16Array {
  for (let i = 0; i < pcm.length; i++) if (i % (0.6 * RATE) >= 0.4 * RATE) pcm[i] = 0;
  return pcm;
}

/** Deliver `pcm` as 20 ms caller frames in real time on the fake clock, starting at call time `fromMs`. */
function speak(
  r: Rig,
  session: CallSession,
  pcm: Int16Array,
  fromMs: number,
  at?: Map<number, () => void>,
): void {
  for (let i = 0; i * 320 < pcm.length; i++) {
    const atMs = fromMs + i * 20;
    at?.get(atMs)?.();
    session.deliver({ type: "audio", pcm: pcm.subarray(i * 320, (i + 1) * 320), atMs });
    r.clock.t += 20;
  }
}

/** Permission bits of a path. */
function mode(path: string): number {
  return (Deno.statSync(path).mode ?? -1) & 0o777;
}

function recordingPath(r: Rig, callId: string): string {
  return `${r.dir}/recordings/${r.accountId}/${callId}.wav`;
}

Deno.test("a consented call is recorded sample-exact: caller left, TOM right, flushed audio cut at the barge-in", async () => {
  const r = await rig();
  try {
    const session = open(r);
    const start = r.clock.t;
    const caller = bursts(tone(440, 4000));
    const greeting = tone(1000, 1000, -9);
    const answer = tone(700, 3000, -9);
    // TOM greets at 500 ms (1 s of audio), starts a 3 s answer at 2000 ms, the caller barges in at 2600 ms.
    const events = new Map<number, () => void>([
      [500, () => r.ctx().output.audio(greeting)],
      [2000, () => r.ctx().output.audio(answer)],
      [2600, () => r.ctx().output.clear()],
    ]);
    speak(r, session, caller, 0, events);
    assert.equal(r.clock.t - start, 4000);
    session.end("caller hung up");

    // The transport still got everything the answerer sent.
    assert.equal(r.sent.length, 3);
    const rel = `${r.accountId}/${session.id}.wav`;
    assert.equal(getCall(r.store, r.accountId, session.id)?.recordingPath, rel);
    const file = recordingPath(r, session.id);
    assert.equal(mode(file), 0o600);
    assert.equal(mode(`${r.dir}/recordings/${r.accountId}`), 0o700);
    assert.equal(mode(`${r.dir}/recordings`), 0o700);

    const bytes = Deno.readFileSync(file);
    const v = new DataView(bytes.buffer);
    assert.equal(v.getUint32(4, true), bytes.length - 8, "RIFF size patched");
    assert.equal(v.getUint32(40, true), bytes.length - 44, "data size patched");
    const wav = readWav(bytes);
    assert.equal(wav.sampleRate, RATE);
    assert.equal(wav.channels.length, 2);
    const [left, right] = wav.channels.map((c) => Int16Array.from(c));
    assert.equal(left.length, 4 * RATE);
    assert.deepEqual(left, caller);
    const want = new Int16Array(4 * RATE);
    want.set(greeting, 0.5 * RATE);
    want.set(answer.subarray(0, 0.6 * RATE), 2 * RATE); // 600 ms played before the barge-in
    assert.deepEqual(right, want);
    assert.ok(r.logs.some((l) => l.message === "recording finished" && l.flushed_ms === 2400));
    // The recording passes the quality check.
    const { log } = console;
    console.log = () => {};
    try {
      assert.equal(await qcMain({ file, json: false }), 0);
    } finally {
      console.log = log;
    }
  } finally {
    await r.close();
  }
});

// What the practice gets: a recording staff can play back never holds the caller's answer to the PIN
// question (spoken digits or keypad tones in the audio). The pipeline says when that answer is due (`private`);
// the caller's channel is silence until it says the check is over, the rest of the call is kept.
Deno.test("while the PIN question is open the caller's channel is silence; before and after it is kept", async () => {
  const r = await rig();
  try {
    const session = open(r);
    const caller = bursts(tone(440, 4000));
    const events = new Map<number, () => void>([
      [1000, () => emitPipelineEvent(r.ctx().output, { type: "private", on: true })],
      [3000, () => emitPipelineEvent(r.ctx().output, { type: "private", on: false })],
    ]);
    speak(r, session, caller, 0, events);
    session.end("caller hung up");
    const [left] = readWav(Deno.readFileSync(recordingPath(r, session.id))).channels.map((c) =>
      Int16Array.from(c)
    );
    const want = caller.slice();
    want.fill(0, 1 * RATE, 3 * RATE);
    assert.deepEqual(left, want);
    assert.ok(caller.subarray(1 * RATE, 3 * RATE).some((x) => x !== 0), "the caller did speak then");
  } finally {
    await r.close();
  }
});

Deno.test("TOM's audio queued behind earlier audio is placed after it; caller frames may arrive late by up to 2 s", async () => {
  const r = await rig();
  try {
    const session = open(r);
    const a = tone(1000, 600, -9);
    const b = tone(700, 400, -9);
    const caller = tone(440, 3000);
    // Nothing arrives for 1.5 s (a network stall); TOM speaks twice; then the stalled 1.5 s of caller
    // audio arrives in one burst and the rest in real time.
    r.clock.t += 1500;
    r.ctx().output.audio(a);
    r.ctx().output.audio(b);
    for (let i = 0; i < 150; i++) {
      session.deliver({ type: "audio", pcm: caller.subarray(i * 320, (i + 1) * 320), atMs: i * 20 });
      if (i >= 75) r.clock.t += 20;
    }
    session.end("caller hung up");
    const wav = readWav(Deno.readFileSync(recordingPath(r, session.id)));
    const [left, right] = wav.channels.map((c) => Int16Array.from(c));
    assert.deepEqual(left, caller);
    const start = 1.5 * RATE; // handed over at 1500 ms of call time
    assert.deepEqual(right.subarray(start, start + a.length), a);
    assert.deepEqual(right.subarray(start + a.length, start + a.length + b.length), b);
  } finally {
    await r.close();
  }
});

Deno.test("no recording without consent, without a known person, or with recording off", async () => {
  for (const opts of [{ consent: false }, { person: false }, { enabled: false }]) {
    const r = await rig(opts);
    try {
      const session = open(r);
      const events = new Map([[100, () => r.ctx().output.audio(tone(1000, 200))]]);
      speak(r, session, tone(440, 500), 0, events);
      session.end("caller hung up");
      assert.equal(r.sent.length, 1, JSON.stringify(opts));
      assert.equal(getCall(r.store, r.accountId, session.id)?.recordingPath, null);
      assert.equal(getCall(r.store, r.accountId, session.id)?.status, "completed");
      assert.throws(() => Deno.statSync(`${r.dir}/recordings`), Deno.errors.NotFound, JSON.stringify(opts));
    } finally {
      await r.close();
    }
  }
});

Deno.test("a recording whose person is erased during the call is deleted at the end", async () => {
  const r = await rig();
  try {
    const session = open(r);
    speak(r, session, tone(440, 500), 0);
    assert.ok(Deno.statSync(recordingPath(r, session.id)).isFile);
    const personId = String(getCall(r.store, r.accountId, session.id)?.personId);
    assert.equal(erasePerson(r.store, r.accountId, personId)?.recordingPaths.length, 1);
    session.end("caller hung up");
    assert.throws(() => Deno.statSync(recordingPath(r, session.id)), Deno.errors.NotFound);
  } finally {
    await r.close();
  }
});

Deno.test("a recording whose person withdraws consent during the call is deleted and forgotten", async () => {
  const r = await rig();
  try {
    const session = open(r);
    speak(r, session, tone(440, 500), 0);
    assert.ok(getCall(r.store, r.accountId, session.id)?.recordingPath);
    const personId = String(getCall(r.store, r.accountId, session.id)?.personId);
    updatePerson(r.store, r.accountId, personId, { consentRecording: false });
    session.end("caller hung up");
    assert.throws(() => Deno.statSync(recordingPath(r, session.id)), Deno.errors.NotFound);
    const call = getCall(r.store, r.accountId, session.id);
    assert.equal(call?.recordingPath, null);
    assert.equal(call?.recorded, false);
  } finally {
    await r.close();
  }
});

Deno.test("when the recording cannot be created the call goes on unrecorded, with one warning", async () => {
  const r = await rig();
  try {
    Deno.writeTextFileSync(`${r.dir}/recordings`, "not a directory");
    const session = open(r);
    const events = new Map([[100, () => r.ctx().output.audio(tone(1000, 200))]]);
    speak(r, session, tone(440, 500), 0, events);
    session.end("caller hung up");
    assert.equal(r.sent.length, 1);
    assert.equal(getCall(r.store, r.accountId, session.id)?.status, "completed");
    assert.equal(getCall(r.store, r.accountId, session.id)?.recordingPath, null);
    const warnings = r.logs.filter((l) => l.level === "warn");
    assert.deepEqual(warnings.map((l) => l.message), ["call is not recorded: cannot create the recording"]);
  } finally {
    await r.close();
  }
});

/** Mount a tiny tmpfs at `dir` (needs root); false when the system does not allow it. */
async function mountTiny(dir: string, size: string): Promise<boolean> {
  try {
    const out = await new Deno.Command("mount", { args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir] })
      .output();
    return out.success;
  } catch {
    return false;
  }
}

Deno.test("a full disk mid-call stops the recording with one warning; the call and the file's start survive", async (t) => {
  const r = await rig();
  const disk = `${r.dir}/recordings`;
  Deno.mkdirSync(disk);
  if (!(await mountTiny(disk, "128k"))) {
    await r.close();
    // CI provisions a root container: there a missing tmpfs is a failure, not a skip.
    assert.notEqual(Deno.env.get("CI"), "true", "Cannot mount a tmpfs (mount -t tmpfs needs root)");
    t.step({ name: "skipped: mounting a tmpfs needs root (mount -t tmpfs)", ignore: true, fn: () => {} });
    return;
  }
  try {
    const session = open(r);
    const caller = tone(440, 10_000);
    const events = new Map([[100, () => r.ctx().output.audio(tone(1000, 5000))]]);
    speak(r, session, caller, 0, events); // 10 s of stereo (640 kB) does not fit in 128 kB
    session.end("caller hung up");
    assert.equal(r.sent.length, 1);
    assert.equal(getCall(r.store, r.accountId, session.id)?.status, "completed");
    const warnings = r.logs.filter((l) => l.level === "warn");
    assert.deepEqual(warnings.map((l) => l.message), ["recording stopped: cannot write the file"]);
    // What was written before the disk filled is a readable recording of the call's start.
    const wav = readWav(Deno.readFileSync(recordingPath(r, session.id)));
    const left = Int16Array.from(wav.channels[0]);
    assert.ok(left.length > RATE / 2 && left.length < 10 * RATE, `${left.length} samples`);
    assert.deepEqual(left, caller.subarray(0, left.length));
  } finally {
    await new Deno.Command("umount", { args: [disk] }).output();
    await r.close();
  }
});

Deno.test("a browser call with consent is recorded (caller tone left, greeting and echo right) and passes tom qc", async () => {
  const h = await startGateway({ env: { TOM_RECORDING_ENABLED: "true" } });
  const accountId = defaultAccountId(h.store);
  const person = createPerson(h.store, accountId, {
    kind: "patient",
    displayName: "Erika",
    phoneE164: PHONE,
    consentRecording: true,
  });
  createCall(h.store, accountId, {
    id: "rec-1",
    direction: "inbound",
    transport: "browser",
    personId: person.id,
  });
  const c = new TestClient(`${h.ws}/ws/stream/rec-1?token=${await h.token("rec-1")}`);
  try {
    await c.event("connected");
    c.send({ type: "start" });
    await c.event("streaming_started");
    // 3 s of caller audio in real time: 440 Hz in 400 ms bursts with 200 ms pauses.
    const caller = bursts(tone(440, 3000, -10));
    for (let i = 0; i < 150; i++) {
      c.send(new Uint8Array(caller.buffer, i * 640, 640));
      await new Promise((res) => setTimeout(res, 20));
    }
    c.send({ type: "stop" });
    await c.event("call_end");
    const file = `${h.config.dataDir}/recordings/${accountId}/rec-1.wav`;
    assert.equal(getCall(h.store, accountId, "rec-1")?.recordingPath, `${accountId}/rec-1.wav`);
    const wav = readWav(await Deno.readFile(file));
    const [left, right] = wav.channels.map((ch) => Int16Array.from(ch));
    assert.ok(left.length >= 3 * RATE, `${left.length} samples`);
    // The caller's frames are on the left exactly as sent (their atMs counts from the first frame).
    assert.deepEqual(left.subarray(0, caller.length), caller);
    // TOM: the 1 kHz greeting first, then the caller's bursts echoed.
    assert.equal(Math.round(dominantFrequency(right.subarray(RATE / 10, (RATE * 8) / 10), RATE)), 1000);
    // After the greeting (played by about 1.1 s): the caller's 440 Hz bursts, no 1 kHz left.
    const tail = right.subarray(Math.round(1.5 * RATE));
    const at440 = toneDbfs(tail, RATE, 440);
    const at1000 = toneDbfs(tail, RATE, 1000);
    // (Goertzel over bursts whose phases the echo's timing shifted: a low level, but a clear ratio.)
    assert.ok(rmsDbfs(tail) > -30, `the echo is recorded: ${rmsDbfs(tail)} dBFS`);
    assert.ok(at440 > at1000 + 40, `echo: 440 Hz at ${at440} dBFS, 1 kHz at ${at1000} dBFS`);
    const { log } = console;
    const out: string[] = [];
    console.log = (s: string) => void out.push(s);
    try {
      assert.equal(await qcMain({ file, json: false }), 0, out.join("\n"));
    } finally {
      console.log = log;
    }
  } finally {
    await c.close();
    await h.close();
  }
});
