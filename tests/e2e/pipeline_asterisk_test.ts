// A real Asterisk calls TOM over AudioSocket with the real pipeline and engines: TOM greets, the caller
// (an espeak-ng German utterance played by Asterisk) asks, TOM answers in speech that Asterisk records,
// the caller talks over the answer (barge-in: flush), then hangs up. Skipped when the Asterisk chroot or
// the engines are unavailable (outside CI).
import assert from "node:assert/strict";
import { join } from "node:path";
import { asteriskDir } from "../../infra/asterisk/cli.ts";
import { type AsteriskChroot, provisionAsterisk } from "../../infra/asterisk/provision.ts";
import { AsteriskInstance } from "../_rigs/asterisk/instance.ts";
import { ROUTES } from "../_rigs/asterisk/config.ts";
import { encodeWav } from "../../gateway/mod.ts";
import { silentLogger } from "../../infra/log.ts";
import type { Answerer, CallOutput } from "../../gateway/call/contract.ts";
import type { PipelineEvent } from "../../gateway/call/messages.ts";
import { type AudioSocketServer, startAudioSocketServer } from "../../gateway/asterisk/audiosocket.ts";
import { createResampler, loadResampler } from "../../gateway/audio/mod.ts";
import { rmsDbfs } from "../_rigs/levels.ts";
import { pipelineAnswerer } from "../../pipeline/mod.ts";
import { synthesizeAll } from "../../pipeline/phrases.ts";
import { startGateway } from "../gateway/server_harness.ts";
import { ENGINES_MISSING, startEngines } from "./pipeline_engines.ts";

const CI = Deno.env.get("CI") === "true";
let chroot: AsteriskChroot | undefined;
let unavailable: string | undefined = ENGINES_MISSING;
if (!unavailable) {
  try {
    chroot = await provisionAsterisk({ dir: asteriskDir() });
  } catch (e) {
    unavailable = e instanceof Error ? e.message : String(e);
  }
}
if (unavailable && !CI) console.error(`skipping the pipeline Asterisk test: ${unavailable}`);

/** What the pipeline did to the call, in order (a telephony output has no event channel: we add one). */
type Seen = { kind: "audio"; ms: number } | { kind: "clear" } | { kind: "hangup" } | {
  kind: "event";
  e: PipelineEvent;
};

function recording(answer: Answerer, seen: Seen[], stopped: () => void): Answerer {
  return (ctx) => {
    const out = ctx.output;
    const output: CallOutput & { event(e: PipelineEvent): void } = {
      audio: (pcm) => {
        seen.push({ kind: "audio", ms: pcm.length / 16 });
        out.audio(pcm);
      },
      mark: (name) => out.mark(name),
      clear: () => {
        seen.push({ kind: "clear" });
        out.clear();
      },
      hangup: (reason) => {
        seen.push({ kind: "hangup" });
        out.hangup(reason);
      },
      get queuedMs() {
        return out.queuedMs;
      },
      event: (e) => seen.push({ kind: "event", e }),
    };
    const inner = answer({ ...ctx, output });
    return {
      handle(e) {
        inner.handle(e);
        if (e.type === "stop") stopped();
      },
    };
  };
}

Deno.test({
  name:
    "a real Asterisk calls the pipeline over AudioSocket: greeting, question, spoken answer, barge-in, hang-up",
  ignore: unavailable !== undefined && !CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    assert.ok(chroot, `unavailable: ${unavailable}`);
    const engines = await startEngines({}, { sttTimeoutMs: 170_000 });
    const seen: Seen[] = [];
    let stopped = () => {};
    const done = new Promise<void>((r) => (stopped = r));
    let audioSocket: AudioSocketServer | undefined;
    let cleanup = () => engines.close();
    try {
      const answer = pipelineAnswerer({
        stt: engines.stt,
        llm: engines.llm,
        tts: engines.tts,
        vad: () => engines.vad.createVad(),
        log: silentLogger,
        config: engines.config,
        options: {
          sttTimeoutMs: 180_000,
          llmFirstTokenTimeoutMs: 30_000,
          llmTokenGapMs: 30_000,
          ttsTimeoutMs: 30_000,
          maxTokens: 400,
        },
      });
      const gw = await startGateway({
        answer: recording(answer, seen, () => stopped()),
        transports: [
          async (_app, deps, guard) => (audioSocket = await startAudioSocketServer(deps, guard, { port: 0 })),
        ],
      });
      cleanup = async () => {
        await gw.close();
        await engines.close();
      };
      const as = audioSocket as AudioSocketServer;
      const asterisk = await AsteriskInstance.start({
        chroot: chroot as AsteriskChroot,
        audioSocket: { host: "127.0.0.1", port: as.addr.port },
        http: { host: "127.0.0.1", port: gw.port },
        caller: { digits: "1" },
      });
      try {
        // The caller: quiet through the greeting, the question, quiet while TOM thinks, then talking over
        // TOM's answer, then quiet, then hang-up (end of the sound file).
        const signal = new AbortController().signal;
        const ask = await synthesizeAll(engines.tts, "Guten Tag, ich hätte gern einen Termin.", signal);
        const talk = await synthesizeAll(
          engines.tts,
          "Moment, warten Sie bitte, ich habe noch eine Frage.",
          signal,
        );
        assert.ok(ask && talk);
        await loadResampler();
        const down = createResampler(16_000, 8_000);
        const sil = (ms: number) => new Int16Array(ms * 16);
        // Long enough for a slow synthetic STT on a busy box; TOM's long answer (maxTokens) still plays then.
        const parts = [sil(9_000), ask, sil(60_000), talk, sil(4_000)];
        const whole = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
        let o = 0;
        for (const p of parts) {
          whole.set(p, o);
          o += p.length;
        }
        const at8k = down.process(whole).slice();
        down.dispose();
        await Deno.writeFile(
          join((chroot as AsteriskChroot).dir, asterisk.paths.sounds, "caller.wav"),
          encodeWav(at8k, 8000),
        );
        await asterisk.originate(ROUTES.audiosocket, "2001");
        await Promise.race([
          done,
          new Promise((_, reject) => setTimeout(() => reject(new Error("call did not end")), 150_000)),
        ]);
        await asterisk.waitIdle(10_000);
        await asterisk.recordingsClosed("2001");
        const types: string[] = seen.map((s) => (s.kind === "event" ? s.e.type : s.kind));
        const compact = types.filter((t, i) => t !== types[i - 1]).join(",");
        let at = 0;
        for (const t of ["audio", "vad", "stt_final", "llm_token", "tts_audio", "audio", "barge_in"]) {
          const i = types.indexOf(t, at);
          assert.ok(i >= at, `${t} in order: ${compact}`);
          at = i + 1;
        }
        const bargeAt = types.indexOf("barge_in");
        assert.ok(
          types.slice(Math.max(0, bargeAt - 3), bargeAt + 1).includes("clear"),
          `flush sent: ${compact}`,
        );
        const heard = await asterisk.recording("2001", "heard");
        const level = rmsDbfs(heard.pcm);
        assert.ok(level > -45, `Asterisk recorded TOM's speech (${level.toFixed(1)} dBFS)`);
        console.log(`asterisk pipeline call: ${compact.slice(0, 400)}; heard ${level.toFixed(1)} dBFS`);
      } finally {
        await asterisk.stop();
      }
    } finally {
      await cleanup();
    }
  },
});
