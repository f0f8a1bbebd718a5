/**
 * Silero VAD with its real weights (the provisioned `silero_vad_16k_op15.onnx`) in onnxruntime-web, on
 * real German speech from espeak-ng padded with silence, clean and through a telephone path (noise,
 * 8 kHz, mu-law). Skipped with the reason when the model or espeak-ng is missing; failing in CI.
 */
import assert from "node:assert/strict";
import {
  createResampler,
  decodeMulaw,
  encodeMulaw,
  int16ToFloat,
  loadResampler,
} from "../../../gateway/audio/mod.ts";
import { loadSilero, SILERO_FRAME, type SileroModel } from "../../../pipeline/engines/silero.ts";
import type { Vad } from "../../../pipeline/engines/types.ts";
import { ENGINES } from "../../_engines.ts";
import { espeakMissing } from "./tts_support.ts";
import { checkSegments, paddedSpeech } from "./vad_support.ts";

const modelMissing = (() => {
  try {
    Deno.statSync(ENGINES.sileroModel);
    return undefined;
  } catch {
    return `missing ${ENGINES.sileroModel} (run: deno task engines)`;
  }
})();
const missing = modelMissing ?? espeakMissing;
const ignore = missing !== undefined && Deno.env.get("CI") !== "true";
if (missing && ignore) console.error(`skipping Silero VAD tests: ${missing}`);
const opts = { ignore, sanitizeResources: false, sanitizeOps: false };

const RATE = 16000;
const FRAME_MS = SILERO_FRAME * 1000 / RATE;

let model: SileroModel | undefined;
async function getModel(): Promise<SileroModel> {
  model ??= await loadSilero({ model: ENGINES.sileroModel });
  return model;
}

/** Speech probability of every whole frame. */
async function probabilities(vad: Vad, pcm: Int16Array): Promise<number[]> {
  const f = int16ToFloat(pcm);
  const out: number[] = [];
  for (let at = 0; at + SILERO_FRAME <= f.length; at += SILERO_FRAME) {
    out.push(await vad.process(f.subarray(at, at + SILERO_FRAME)));
  }
  return out;
}

Deno.test({
  name: "silero: espeak-ng German padded with 1 s of silence is found within 150 ms of the truth",
  ...opts,
  fn: async () => {
    const vad = (await getModel()).createVad();
    const { pcm, truth } = await paddedSpeech(1000);
    const probs = await probabilities(vad, pcm);
    assert.ok(probs.every((p) => p >= 0 && p <= 1));
    checkSegments(probs, truth, { frameMs: FRAME_MS, label: "clean" });
    vad.dispose();
  },
});

Deno.test({
  name: "silero: the same speech with noise through 8 kHz mu-law (a phone line) is still found",
  ...opts,
  fn: async () => {
    await loadResampler();
    const { pcm, truth } = await paddedSpeech(1000);
    // Gaussian noise about 25 dB below the speech, seeded.
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const noisy = new Int16Array(pcm.length);
    for (let i = 0; i < pcm.length; i++) {
      const g = Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
      noisy[i] = Math.max(-32768, Math.min(32767, Math.round(pcm[i] + g * 150)));
    }
    const down = createResampler(16000, 8000);
    const up = createResampler(8000, 16000);
    const narrow = down.process(noisy);
    const line = decodeMulaw(encodeMulaw(narrow));
    const back = up.process(line);
    down.dispose();
    up.dispose();
    const vad = (await getModel()).createVad();
    checkSegments(await probabilities(vad, back), truth, { frameMs: FRAME_MS, label: "phone line" });
    vad.dispose();
  },
});

Deno.test({
  name: "silero: streams sharing one session keep their own state (interleaved = each alone)",
  ...opts,
  fn: async () => {
    const m = await getModel();
    const { pcm } = await paddedSpeech(300);
    const other = new Int16Array(pcm.length);
    for (let i = 0; i < other.length; i++) other[i] = pcm[other.length - 1 - i]; // reversed: different input
    const aloneA = await probabilities(m.createVad(), pcm);
    const aloneB = await probabilities(m.createVad(), other);
    const a = m.createVad();
    const b = m.createVad();
    const fa = int16ToFloat(pcm);
    const fb = int16ToFloat(other);
    const pa: number[] = [];
    const pb: number[] = [];
    for (let at = 0; at + SILERO_FRAME <= fa.length; at += SILERO_FRAME) {
      const [x, y] = await Promise.all([
        a.process(fa.subarray(at, at + SILERO_FRAME)),
        b.process(fb.subarray(at, at + SILERO_FRAME)),
      ]);
      pa.push(x);
      pb.push(y);
    }
    assert.deepEqual(pa, aloneA);
    assert.deepEqual(pb, aloneB);
    // reset() forgets the state: the same audio again gives the same probabilities.
    a.reset();
    assert.deepEqual(await probabilities(a, pcm), aloneA);
  },
});

Deno.test({
  name: "silero: frames of the wrong size are rejected, a disposed detector refuses work",
  ...opts,
  fn: async () => {
    const vad = (await getModel()).createVad();
    assert.equal(vad.frameSamples, 512);
    await assert.rejects(() => vad.process(new Float32Array(320)), RangeError);
    vad.dispose();
    await assert.rejects(() => vad.process(new Float32Array(512)), /disposed/);
    await assert.rejects(() => loadSilero({ model: "/nonexistent/vad.onnx" }), /Cannot read the VAD model/);
  },
});

Deno.test({
  name: "silero: cost per frame and per session (measured, not asserted)",
  ...opts,
  fn: async () => {
    const m = await getModel();
    const { pcm } = await paddedSpeech(500);
    const vad = m.createVad();
    const f = int16ToFloat(pcm);
    const times: number[] = [];
    for (let round = 0; round < 3; round++) {
      for (let at = 0; at + SILERO_FRAME <= f.length; at += SILERO_FRAME) {
        const t0 = performance.now();
        await vad.process(f.subarray(at, at + SILERO_FRAME));
        times.push(performance.now() - t0);
      }
    }
    times.sort((x, y) => x - y);
    const q = (p: number) => times[Math.floor(p * (times.length - 1))].toFixed(3);
    const t0 = performance.now();
    const second = await loadSilero({ model: ENGINES.sileroModel });
    const secondMs = performance.now() - t0;
    await second.dispose();
    console.log(
      `silero: ${times.length} frames of 32 ms: median ${q(0.5)} ms, p90 ${q(0.9)} ms, max ${q(1)} ms; ` +
        `first session ${m.loadMs.toFixed(0)} ms, another session ${secondMs.toFixed(0)} ms`,
    );
  },
});

Deno.test({
  name: "silero: openVad loads Silero from config vad.model, one detector per call",
  ...opts,
  fn: async () => {
    const { openVad } = await import("../../../pipeline/engines/vad.ts");
    const p = await openVad({ model: ENGINES.sileroModel });
    assert.equal(p.name, "silero");
    assert.equal(p.degraded, undefined);
    const vad = await p.createVad();
    assert.equal(vad.frameSamples, 512);
    assert.ok((await vad.process(new Float32Array(512))) < 0.2);
    vad.dispose();
    await p.dispose();
  },
});
