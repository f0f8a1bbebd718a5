/** WebRTC VAD (libfvad in wasm) on real German speech from espeak-ng, the cheap fallback for Silero. */
import assert from "node:assert/strict";
import { int16ToFloat } from "../../../gateway/audio/mod.ts";
import { createWebrtcVad } from "../../../pipeline/engines/vad_webrtc.ts";
import type { Vad } from "../../../pipeline/engines/types.ts";
import { skipWithoutEspeak } from "./tts_support.ts";
import { checkSegments, paddedSpeech } from "./vad_support.ts";

const opts = { ignore: skipWithoutEspeak, sanitizeResources: false, sanitizeOps: false };

async function probabilities(vad: Vad, pcm: Int16Array): Promise<number[]> {
  const f = int16ToFloat(pcm);
  const out: number[] = [];
  for (let at = 0; at + vad.frameSamples <= f.length; at += vad.frameSamples) {
    out.push(await vad.process(f.subarray(at, at + vad.frameSamples)));
  }
  return out;
}

Deno.test({
  name: "webrtc vad: espeak-ng German padded with silence: start within 150 ms, end at most 300 ms late",
  ...opts,
  fn: async () => {
    const vad = await createWebrtcVad({ mode: 2, frameMs: 20 });
    assert.equal(vad.frameSamples, 320);
    const { pcm, truth } = await paddedSpeech(1000);
    const t0 = performance.now();
    const probs = await probabilities(vad, pcm);
    const us = (performance.now() - t0) * 1000 / probs.length;
    assert.ok(probs.every((p) => p === 0 || p === 1));
    checkSegments(probs, truth, { frameMs: 20, label: "webrtc", endToleranceMs: 300 });
    console.log(`webrtc vad: ${us.toFixed(1)} us per 20 ms frame (measured, not asserted)`);
    vad.reset();
    assert.deepEqual(await probabilities(vad, pcm), probs, "reset restores the mode and rate");
    vad.dispose();
    await assert.rejects(() => vad.process(new Float32Array(320)), /disposed/);
  },
});

Deno.test("webrtc vad: bad options and frame sizes are rejected", async () => {
  await assert.rejects(() => createWebrtcVad({ mode: 7 as 0 }), RangeError);
  await assert.rejects(() => createWebrtcVad({ frameMs: 25 as 20 }), RangeError);
  const vad = await createWebrtcVad({ frameMs: 30 });
  assert.equal(vad.frameSamples, 480);
  await assert.rejects(() => vad.process(new Float32Array(512)), RangeError);
  assert.equal(await vad.process(new Float32Array(480)), 0);
  vad.dispose();
});

Deno.test("vad: openVad falls back to WebRTC VAD when the Silero model is missing, or throws", async () => {
  const { openVad } = await import("../../../pipeline/engines/vad.ts");
  const p = await openVad({ model: "/nonexistent/silero.onnx" }, { fallback: true });
  assert.equal(p.name, "webrtc");
  assert.match(p.degraded ?? "", /Cannot read the VAD model/);
  const vad = await p.createVad();
  assert.equal(vad.frameSamples, 320);
  vad.dispose();
  await p.dispose();
  await assert.rejects(() => openVad({ model: "/nonexistent/silero.onnx" }), /Cannot read the VAD model/);
});
