/** RNNoise noise suppression (optional, off by default) on espeak-ng German speech with white noise. */
import assert from "node:assert/strict";
import { rmsDbfs } from "../../../gateway/audio/mod.ts";
import { createDenoiser, DENOISE_DEFAULT } from "../../../pipeline/engines/vad_denoise.ts";
import { skipWithoutEspeak } from "./tts_support.ts";
import { paddedSpeech } from "./vad_support.ts";

Deno.test({
  name: "denoise: noise in the pauses drops by more than 10 dB, speech stays within 6 dB",
  ignore: skipWithoutEspeak,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    assert.equal(DENOISE_DEFAULT, false);
    const { pcm, truth } = await paddedSpeech(1500);
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const noisy = pcm.map((s) => Math.max(-32768, Math.min(32767, s + Math.round((rand() - 0.5) * 600))));
    const d = await createDenoiser();
    const parts: Int16Array[] = [];
    for (let at = 0; at < noisy.length; at += 320) parts.push(d.process(noisy.subarray(at, at + 320)));
    d.dispose();
    const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    assert.ok(Math.abs(out.length - noisy.length) < 16 * 20, `${out.length} vs ${noisy.length}`);
    const ms = (a: number, b: number) => [Math.round(a * 16), Math.round(b * 16)] as const;
    const [n0, n1] = ms(800, 1400); // a pause after RNNoise has adapted
    const before = rmsDbfs(noisy.subarray(n0, n1));
    const after = rmsDbfs(out.subarray(n0, n1));
    const [s0, s1] = ms(truth.startMs + 100, truth.endMs - 100);
    const speechBefore = rmsDbfs(noisy.subarray(s0, s1));
    const speechAfter = rmsDbfs(out.subarray(s0 + 32, s1 + 32));
    console.log(
      `denoise: pause ${before.toFixed(1)} -> ${after.toFixed(1)} dBFS, speech ${
        speechBefore.toFixed(1)
      } -> ` +
        `${speechAfter.toFixed(1)} dBFS`,
    );
    assert.ok(before - after > 10, `noise only ${before - after} dB lower`);
    assert.ok(Math.abs(speechBefore - speechAfter) < 6);
    assert.throws(() => d.process(new Int16Array(10)), /disposed/);
  },
});
