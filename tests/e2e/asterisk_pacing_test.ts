/**
 * What a real phone hears of TOM's pacing (issue 11, item 8): a real Asterisk calls TOM over AudioSocket
 * and over chan_websocket; TOM stays silent for 3 s, then speaks a long answer through the real reply
 * path (runReply: sentence splitting, real espeak-ng TTS at 22050 Hz in big chunks, resampling, the
 * transport's conversion and pacing), then hangs up. A TCP tap in its own process between Asterisk and
 * TOM stamps every chunk TOM sends when it arrives at Asterisk's side of the connection.
 *
 * Measured per call: the longest gap between TOM's consecutive frames while it speaks (the caller hears
 * a gap as choppy speech), and while it is silent (no packets for seconds looks like a dead call to
 * NATs and phones); and how far TOM's "first audio out" stamp is from the first answer frame's arrival.
 *
 *   deno test -A tests/e2e/asterisk_pacing_test.ts
 *
 * Skipped (reason printed) without the Asterisk chroot or espeak-ng, outside CI.
 *
 * @module
 */
import assert from "node:assert/strict";
import { asteriskDir } from "../../infra/asterisk/cli.ts";
import { type AsteriskChroot, provisionAsterisk } from "../../infra/asterisk/provision.ts";
import { AsteriskInstance, CALLER_TONE } from "../_rigs/asterisk/instance.ts";
import { type Route, ROUTES } from "../_rigs/asterisk/config.ts";
import type { Answerer, CallOutput } from "../../gateway/call/contract.ts";
import { mountAsteriskWebSocket } from "../../gateway/asterisk/websocket.ts";
import { type AudioSocketServer, startAudioSocketServer } from "../../gateway/asterisk/audiosocket.ts";
import { decodeBase64 } from "../../gateway/audio/_base64.ts";
import { createEspeakTts } from "../../pipeline/engines/espeak.ts";
import type { LlmEngine, TtsEngine } from "../../pipeline/engines/types.ts";
import { DEFAULT_PIPELINE_OPTIONS } from "../../pipeline/defaults.ts";
import { newReplyWork, runReply } from "../../pipeline/reply.ts";
import { Trace } from "../../pipeline/trace.ts";
import { startGateway } from "../gateway/server_harness.ts";

const CI = Deno.env.get("CI") === "true";
let chroot: AsteriskChroot | undefined;
let unavailable: string | undefined;
try {
  await new Deno.Command("espeak-ng", { args: ["--version"], stdout: "null", stderr: "null" }).output();
  chroot = await provisionAsterisk({ dir: asteriskDir() });
} catch (e) {
  unavailable = e instanceof Error ? e.message : String(e);
  if (!CI) console.error(`skipping the Asterisk pacing test: ${unavailable}`);
}

/** TOM's silence before it answers, in ms (a caller thinking, TOM waiting for the LLM). */
const SILENT_MS = 3000;
/** The answer: about 20 s of German speech, long sentences (TTS delivers each in big chunks). */
const ANSWER = "Guten Tag, hier ist die Praxis Doktor Sommer, schön dass Sie anrufen und vielen Dank " +
  "für Ihre Geduld am Telefon heute. Wir haben am Dienstag um neun Uhr dreißig, am Mittwoch um " +
  "vierzehn Uhr fünfzehn und am Freitag um elf Uhr noch freie Termine für eine Untersuchung. " +
  "Bitte bringen Sie Ihre Versichertenkarte, den Überweisungsschein und eine Liste Ihrer Medikamente " +
  "mit, und kommen Sie zehn Minuten früher, damit wir die Anmeldung in Ruhe erledigen können. " +
  "Wenn Sie den Termin nicht wahrnehmen können, sagen Sie bitte spätestens einen Tag vorher ab.";

/** The LLM's part, played back word by word (the engines under test are the TTS and the transports). */
const scriptedLlm: LlmEngine = {
  name: "scripted",
  async *chat() {
    for (const w of ANSWER.split(/(?<= )/)) yield { type: "token", text: w };
    yield { type: "done", finishReason: "stop", tokens: 0 };
  },
};

/**
 * espeak-ng, delivering each sentence as one chunk the way Piper does (it writes a sentence's audio when
 * it is done): seconds of 22050 Hz audio arrive at once.
 */
function wholeSentences(tts: TtsEngine): TtsEngine {
  return {
    name: tts.name,
    sampleRate: tts.sampleRate,
    async *synthesize(text, opts) {
      const parts: Int16Array[] = [];
      for await (const f of tts.synthesize(text, opts)) {
        if (f.type !== "audio") {
          if (parts.length > 0) {
            const all = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
            let at = 0;
            for (const p of parts.splice(0)) {
              all.set(p, at);
              at += p.length;
            }
            yield { type: "audio", pcm: all };
          }
          yield f;
        } else parts.push(f.pcm);
      }
    },
  };
}

interface Answered {
  /** When TOM stamped its first audio out (epoch ms), and when it queued it. */
  firstOut?: number;
  queued?: number;
  done: Promise<void>;
}

/** Silent for SILENT_MS, then the long answer through the real reply path, then 1 s silence, hang-up. */
function longAnswer(answers: Answered[]): Answerer {
  const tts = wholeSentences(createEspeakTts({ voice: "de" }));
  const epoch = () => performance.timeOrigin + performance.now();
  return (ctx) => {
    let finished = () => {};
    const a: Answered = { done: new Promise((r) => (finished = r)) };
    answers.push(a);
    const speak = async (output: CallOutput) => {
      await new Promise((r) => setTimeout(r, SILENT_MS));
      const trace = new Trace(epoch(), epoch);
      const work = newReplyWork(1, "Termin?", trace);
      ctx.signal.addEventListener("abort", () => work.ac.abort());
      await runReply(work, [], {
        ctx,
        llm: scriptedLlm,
        tts,
        options: DEFAULT_PIPELINE_OPTIONS,
        now: epoch,
        isCurrent: () => !ctx.signal.aborted,
        onAudible: () => (a.queued = epoch()),
      });
      a.firstOut = trace.get("first_audio_out");
      output.mark("end");
    };
    return {
      handle(e) {
        if (e.type === "start") {
          speak(ctx.output).catch((err) => ctx.log.error("answer failed", { error: err }));
        } else if (e.type === "mark" && e.name === "end") {
          setTimeout(() => ctx.output.hangup("answer done"), 1000);
        } else if (e.type === "stop") finished();
      },
    };
  };
}

/** A tap process between Asterisk and one of TOM's ports. */
class Tap {
  readonly port: number;
  readonly #child: Deno.ChildProcess;
  readonly #out: string;

  private constructor(port: number, child: Deno.ChildProcess, out: string) {
    this.port = port;
    this.#child = child;
    this.#out = out;
  }

  static async start(to: number): Promise<Tap> {
    const out = await Deno.makeTempFile({ suffix: ".json" });
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("./tcp_tap.ts", import.meta.url).pathname,
        "--to",
        String(to),
        "--out",
        out,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error("The tap exited before it listened");
      text += value;
    }
    reader.releaseLock();
    child.stdout.cancel().catch(() => {});
    return new Tap(Number(text.trim()), child, out);
  }

  /** Stop it; the chunks TOM sent, per connection, in order. */
  async stop(): Promise<{ t: number; bytes: Uint8Array }[][]> {
    await this.#child.stdin.close();
    await this.#child.status;
    const conns = JSON.parse(await Deno.readTextFile(this.#out)) as { chunks: [number, string][] }[];
    await Deno.remove(this.#out).catch(() => {});
    return conns.map((c) => c.chunks.map(([t, b]) => ({ t, bytes: decodeBase64(b) })));
  }
}

/** One 20 ms frame TOM sent, when its last byte reached Asterisk's side, and whether it was silence. */
interface Frame {
  t: number;
  silent: boolean;
}

/** Walks a byte stream with each byte's arrival time. */
class Stream {
  readonly bytes: Uint8Array;
  readonly #times: Float64Array;
  at = 0;
  constructor(chunks: { t: number; bytes: Uint8Array }[]) {
    const n = chunks.reduce((s, c) => s + c.bytes.length, 0);
    this.bytes = new Uint8Array(n);
    this.#times = new Float64Array(n);
    let at = 0;
    for (const c of chunks) {
      this.bytes.set(c.bytes, at);
      this.#times.fill(c.t, at, at + c.bytes.length);
      at += c.bytes.length;
    }
  }
  get left(): number {
    return this.bytes.length - this.at;
  }
  timeOf(index: number): number {
    return this.#times[index];
  }
}

function audioSocketFrames(chunks: { t: number; bytes: Uint8Array }[]): { start: number; frames: Frame[] } {
  const s = new Stream(chunks);
  const frames: Frame[] = [];
  while (s.left >= 3) {
    const kind = s.bytes[s.at];
    const len = (s.bytes[s.at + 1] << 8) | s.bytes[s.at + 2];
    if (s.left < 3 + len) break;
    const payload = s.bytes.subarray(s.at + 3, s.at + 3 + len);
    if (kind >= 0x10 && kind <= 0x18) {
      frames.push({ t: s.timeOf(s.at + 2 + len), silent: payload.every((b) => b === 0) });
    }
    s.at += 3 + len;
  }
  return { start: s.timeOf(0), frames };
}

function webSocketFrames(
  chunks: { t: number; bytes: Uint8Array }[],
  frameBytes: number,
  silence: number,
): { start: number; frames: Frame[] } {
  const s = new Stream(chunks);
  const text = new TextDecoder().decode(s.bytes.subarray(0, Math.min(s.bytes.length, 4096)));
  s.at = text.indexOf("\r\n\r\n") + 4; // after the 101 response
  const start = s.timeOf(s.at - 1);
  const frames: Frame[] = [];
  while (s.left >= 2) {
    const op = s.bytes[s.at] & 0x0f;
    let len = s.bytes[s.at + 1] & 0x7f;
    let head = 2;
    if (len === 126) {
      len = (s.bytes[s.at + 2] << 8) | s.bytes[s.at + 3];
      head = 4;
    } else if (len === 127) {
      len = Number(new DataView(s.bytes.buffer, s.at + 2, 8).getBigUint64(0));
      head = 10;
    }
    if (s.left < head + len) break;
    const payload = s.bytes.subarray(s.at + head, s.at + head + len);
    const t = s.timeOf(s.at + head + len - 1);
    if (op === 2) {
      for (let i = 0; i + frameBytes <= payload.length; i += frameBytes) {
        frames.push({ t, silent: payload.subarray(i, i + frameBytes).every((b) => b === silence) });
      }
    }
    s.at += head + len;
  }
  return { start, frames };
}

interface Figures {
  route: string;
  frames: number;
  answerMs: number;
  maxGapAnswer: number;
  /** The 99th percentile of the gaps between the answer's frames. */
  p99GapAnswer: number;
  maxGapSilence: number;
  /** Longest gap between frames after the answer, until the hang-up. */
  maxGapAfter: number;
  /**
   * How late the answer's frames came for a listener that starts playing its first frame on arrival and
   * plays one every 20 ms (positive: the listener ran dry; what a caller hears as a break).
   */
  maxLate: number;
  firstAudioAt: number;
  /** The five longest gaps in the answer, with their place (ms after the answer's first frame). */
  worst: string;
}

function analyse(route: string, start: number, frames: Frame[]): Figures {
  const first = frames.findIndex((f) => !f.silent);
  const last = frames.findLastIndex((f) => !f.silent);
  assert.ok(first >= 0, `${route}: TOM's answer reached Asterisk`);
  let maxGapAnswer = 0;
  const gaps: [number, number][] = [];
  for (let i = first + 1; i <= last; i++) {
    const gap = frames[i].t - frames[i - 1].t;
    maxGapAnswer = Math.max(maxGapAnswer, gap);
    gaps.push([gap, frames[i].t - frames[first].t]);
  }
  const sorted = gaps.map(([g]) => g).sort((a, b) => a - b);
  const p99GapAnswer = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
  const worst = gaps.sort((a, b) => b[0] - a[0]).slice(0, 5).map(([g, at]) =>
    `${g.toFixed(0)}@${at.toFixed(0)}`
  );
  let maxLate = -Infinity;
  for (let i = first; i <= last; i++) {
    maxLate = Math.max(maxLate, frames[i].t - (frames[first].t + (i - first) * 20));
  }
  let maxGapAfter = 0;
  for (let i = last + 1; i < frames.length; i++) {
    maxGapAfter = Math.max(maxGapAfter, frames[i].t - frames[i - 1].t);
  }
  // Silence before the answer, from the start of the stream (the connection, or the 101 response).
  let maxGapSilence = frames[0] ? frames[0].t - start : Infinity;
  for (let i = 1; i <= first; i++) maxGapSilence = Math.max(maxGapSilence, frames[i].t - frames[i - 1].t);
  return {
    route,
    frames: frames.length,
    answerMs: (last - first + 1) * 20,
    maxGapAnswer,
    p99GapAnswer,
    maxGapSilence,
    maxGapAfter,
    maxLate,
    firstAudioAt: frames[first].t,
    worst: worst.join(" "),
  };
}

Deno.test({
  name:
    "a real phone path: TOM's long answer reaches Asterisk without gaps, and silence keeps the line alive",
  ignore: unavailable !== undefined && !CI,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    assert.ok(chroot, `the Asterisk chroot could not be built: ${unavailable}`);
    const answers: Answered[] = [];
    let audioSocket: AudioSocketServer | undefined;
    const gw = await startGateway({
      answer: longAnswer(answers),
      transports: [
        (app, deps, guard) => mountAsteriskWebSocket(app, deps, guard),
        async (_app, deps, guard) => (audioSocket = await startAudioSocketServer(deps, guard, { port: 0 })),
      ],
    });
    const asTap = await Tap.start((audioSocket as AudioSocketServer).addr.port);
    const wsTap = await Tap.start(gw.port);
    const asterisk = await AsteriskInstance.start({
      chroot: chroot as AsteriskChroot,
      audioSocket: { host: "127.0.0.1", port: asTap.port },
      http: { host: "127.0.0.1", port: wsTap.port },
      // The caller stays on the line (silence) until TOM hangs up.
      tone: { ...CALLER_TONE, afterMs: 60_000 },
    });
    const figures: Figures[] = [];
    const routes: [Route, Tap][] = [[ROUTES.audiosocket, asTap], [ROUTES.websocket, wsTap]];
    try {
      for (const [i, [route]] of routes.entries()) {
        await t.step(route, async () => {
          const before = answers.length;
          await asterisk.originate(route, String(2001 + i));
          for (let k = 0; k < 300 && answers.length === before; k++) {
            await new Promise((r) => setTimeout(r, 50));
          }
          const a = answers[before];
          assert.ok(a, `TOM got the ${route} call`);
          await Promise.race([
            a.done,
            new Promise((_, reject) =>
              setTimeout(() => reject(new Error(`${route}: call did not end`)), 90_000)
            ),
          ]);
          await asterisk.waitIdle(10_000);
        });
      }
    } finally {
      await asterisk.stop();
      await gw.close();
    }
    const [asConns, wsConns] = [await asTap.stop(), await wsTap.stop()];
    const as = audioSocketFrames(asConns[0] ?? []);
    figures.push(analyse(ROUTES.audiosocket, as.start, as.frames));
    const ws = webSocketFrames(wsConns[0] ?? [], 160, 0xff);
    figures.push(analyse(ROUTES.websocket, ws.start, ws.frames));
    const f = (n: number) => n.toFixed(1);
    console.log(
      "route       | frames | answer ms | max gap in answer | p99 gap | max late in answer | max gap in silence | " +
        "after answer | first audio: stamped-queued, arrived-stamped",
    );
    for (const [i, r] of figures.entries()) {
      const a = answers[i];
      const stamp = a?.firstOut ?? NaN;
      console.log(
        `${r.route.padEnd(11)} | ${String(r.frames).padStart(6)} | ${String(r.answerMs).padStart(9)} | ` +
          `${f(r.maxGapAnswer).padStart(17)} | ${f(r.p99GapAnswer).padStart(7)} | ${
            f(r.maxLate).padStart(18)
          } | ${f(r.maxGapSilence).padStart(18)} | ` +
          `${f(r.maxGapAfter).padStart(12)} | ` +
          `${f(stamp - (a?.queued ?? NaN))} ms, ${f(r.firstAudioAt - stamp)} ms | worst gaps ${r.worst}`,
      );
    }
    // 20 ms frames; 40 ms = one frame late, which a caller hears as a break in the speech. The tap that
    // stamps the frames runs in this test's own event loop, beside TOM, on a 2-core machine that other
    // tests keep busy: a single stamp can be late by the tap's own delay (CI runs saw 40.8 ms and, with
    // parallel work, 108 ms while the other frames kept time). So the test holds the pacing to its steady
    // rhythm (99 % of the gaps within one frame slot) and catches stalls (a reply waiting on TTS, an event
    // loop held by resampling: hundreds of ms); the exact worst gaps are printed above for the record.
    const STEADY_MS = 40;
    const STALL_MS = 250;
    for (const r of figures) {
      assert.ok(r.answerMs > 10_000, `${r.route}: a long answer (${r.answerMs} ms)`);
      // AudioSocket plays frames as they come: a gap on the wire is a gap for the caller. chan_websocket
      // may send up to 400 ms ahead into Asterisk's queue: there the caller hears a frame that comes late
      // for its turn, not a gap on the wire that the queue covers.
      if (r.route === ROUTES.audiosocket) {
        assert.ok(
          r.p99GapAnswer <= STEADY_MS,
          `${r.route}: 1 % of the answer's frames came more than ${f(r.p99GapAnswer)} ms apart`,
        );
        assert.ok(
          r.maxGapAnswer <= STALL_MS,
          `${r.route}: ${f(r.maxGapAnswer)} ms without a frame during the answer`,
        );
      }
      assert.ok(
        r.maxLate <= STALL_MS,
        `${r.route}: a frame of the answer came ${f(r.maxLate)} ms late for its turn`,
      );
      assert.ok(
        r.maxGapSilence <= STALL_MS,
        `${r.route}: ${f(r.maxGapSilence)} ms without a frame while silent`,
      );
    }
  },
});
