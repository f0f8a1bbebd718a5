/**
 * The same TtsEngine checks against both adapters: Piper (its protocol stand-in) and the real espeak-ng.
 * What the pipeline relies on: audio frames then exactly one `done`, quiet end on abort, PCM at the
 * engine's declared rate, a failed engine as an error frame (never a throw).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createEspeakTts } from "../../../pipeline/engines/espeak.ts";
import { createPiperTts } from "../../../pipeline/engines/piper.ts";
import { createTts, type DegradableTts } from "../../../pipeline/engines/tts.ts";
import type { TtsEngine } from "../../../pipeline/engines/types.ts";
import { collect, skipWithoutEspeak } from "./tts_support.ts";

const STUB = join(import.meta.dirname ?? ".", "fixtures", "piper_stub.ts");

async function piper(): Promise<TtsEngine> {
  const dir = await Deno.makeTempDir({ prefix: "piper_voice_" });
  const model = join(dir, "voice.onnx");
  await Deno.writeFile(model, new Uint8Array(4));
  return createPiperTts({ model, bin: Deno.execPath(), binArgs: ["run", "--allow-read", STUB] });
}

const engines: [string, () => Promise<TtsEngine>, boolean][] = [
  ["piper (stand-in)", piper, false],
  ["espeak-ng", () => Promise.resolve(createEspeakTts()), skipWithoutEspeak],
];

for (const [label, make, ignore] of engines) {
  Deno.test({
    name: `tts contract (${label}): audio frames, then one done; abort ends quietly; next sentence works`,
    ignore,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      const tts = await make();
      try {
        const r = await collect(tts, "Guten Tag, hier ist Tom.");
        assert.ok(r.chunks >= 1);
        assert.deepEqual(r.frames.at(-1), { type: "done" });
        assert.equal(r.frames.filter((f) => f.type === "done").length, 1);
        assert.ok(r.frames.slice(0, -1).every((f) => f.type === "audio"));
        const seconds = r.pcm.length / tts.sampleRate;
        assert.ok(seconds > 0.5 && seconds < 5, `${seconds} s`);

        const ac = new AbortController();
        const frames: string[] = [];
        for await (const f of tts.synthesize("Ein Satz, der abgebrochen wird.", { signal: ac.signal })) {
          frames.push(f.type);
          ac.abort();
        }
        assert.deepEqual(frames, ["audio"]);

        const pre = new AbortController();
        pre.abort();
        assert.deepEqual((await collect(tts, "Nie gesprochen.", pre.signal)).frames, []);
        assert.deepEqual((await collect(tts, "Danach.")).frames.at(-1), { type: "done" });
      } finally {
        await tts.close?.();
      }
    },
  });
}

Deno.test("tts: createTts picks the engine the configuration names", async () => {
  assert.equal(await createTts({ kind: "none", bin: "", voice: "de", model: "" }), undefined);
  const e = await createTts({ kind: "espeak-ng", bin: "espeak-ng", voice: "de", model: "" });
  assert.equal(e?.name, "espeak-ng:de");
  assert.equal(e?.sampleRate, 22050);
  // Piper without a voice: espeak-ng speaks instead (tts_fallback_test.ts).
  const none = await createTts({ kind: "piper", bin: "piper", voice: "de", model: "" });
  assert.match((none as DegradableTts).degraded ?? "", /tts.model ist leer/);
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(join(dir, "v.onnx"), new Uint8Array([1]));
  await Deno.writeTextFile(join(dir, "v.onnx.json"), JSON.stringify({ audio: { sample_rate: 16000 } }));
  const p = await createTts({ kind: "piper", bin: "espeak-ng", voice: "de", model: join(dir, "v.onnx") });
  assert.equal(p?.sampleRate, 16000);
  await p?.close?.();
});
