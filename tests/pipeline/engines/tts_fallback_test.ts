/**
 * Piper with espeak-ng behind it: a caller still hears TOM when Piper's binary is missing or Piper exits at
 * once; the switch happens once, is said once, and the engine reports itself degraded (for /readyz). A
 * Piper that has spoken and then fails is not replaced (its own restart and the call's apology apply).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createTts, type DegradableTts, FallbackTts } from "../../../pipeline/engines/tts.ts";
import type { TtsEngine, TtsFrame } from "../../../pipeline/engines/types.ts";
import { collect, skipWithoutEspeak } from "./tts_support.ts";

/** A voice model and its JSON in a temp dir, and optionally a fake `piper` script there. */
async function piperDir(script?: string): Promise<{ dir: string; model: string; bin: string }> {
  const dir = await Deno.makeTempDir({ prefix: "tom-piper-fallback-" });
  const model = join(dir, "de_DE-thorsten-medium.onnx");
  await Deno.writeFile(model, new Uint8Array([1, 2, 3]));
  await Deno.writeTextFile(`${model}.json`, JSON.stringify({ audio: { sample_rate: 22050 } }));
  const bin = join(dir, "piper");
  if (script !== undefined) {
    await Deno.writeTextFile(bin, script);
    await Deno.chmod(bin, 0o755);
  }
  return { dir, model, bin };
}

async function speaksTwice(tts: TtsEngine): Promise<void> {
  for (const text of ["Guten Tag, hier ist die Praxis.", "Wie kann ich helfen?"]) {
    const r = await collect(tts, text);
    assert.deepEqual(r.frames.filter((f) => f.type === "error"), [], "the caller hears no error");
    assert.ok(r.pcm.length > 4000, `the caller hears "${text}" (${r.pcm.length} samples)`);
    assert.deepEqual(r.frames.at(-1), { type: "done" });
  }
}

Deno.test({
  name: "Piper's binary is missing: espeak-ng speaks from the start, said once, reported degraded",
  ignore: skipWithoutEspeak,
  async fn() {
    const { dir, model, bin } = await piperDir();
    const said: string[] = [];
    const tts = await createTts({ kind: "piper", bin, voice: "de", model }, {
      onDegraded: (r) => said.push(r),
    });
    try {
      assert.ok(tts);
      assert.match((tts as DegradableTts).degraded ?? "", /Programm .*piper fehlt.*Ersatzstimme espeak-ng/);
      await speaksTwice(tts);
      assert.equal(said.length, 1);
      assert.equal(tts.name, "espeak-ng:de");
    } finally {
      await tts?.close?.();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a piper not on PATH fails on the first sentence: that sentence and the next are spoken by espeak-ng",
  ignore: skipWithoutEspeak,
  async fn() {
    const { dir, model } = await piperDir();
    const said: string[] = [];
    const tts = await createTts(
      { kind: "piper", bin: "tom-no-such-piper", voice: "de", model },
      { onDegraded: (r) => said.push(r) },
    );
    try {
      assert.equal((tts as DegradableTts).degraded, undefined, "not known before the first sentence");
      await speaksTwice(tts as TtsEngine);
      assert.equal(said.length, 1, "said once, not per sentence");
      assert.match((tts as DegradableTts).degraded ?? "", /Cannot start tom-no-such-piper/);
    } finally {
      await tts?.close?.();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a piper that exits 1 at once: the caller hears espeak-ng, the reason says Piper failed",
  ignore: skipWithoutEspeak,
  async fn() {
    const { dir, model, bin } = await piperDir(
      "#!/bin/sh\necho 'onnxruntime: cannot load model' >&2\nexit 1\n",
    );
    const said: string[] = [];
    const tts = await createTts({ kind: "piper", bin, voice: "de", model }, {
      onDegraded: (r) => said.push(r),
    });
    try {
      await speaksTwice(tts as TtsEngine);
      assert.equal(said.length, 1);
      assert.match(said[0], /^Piper nicht nutzbar \((Cannot write to Piper|Piper exited with code 1)/);
      assert.equal((tts as DegradableTts).degraded, said[0]);
    } finally {
      await tts?.close?.();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("a voice model that is missing: espeak-ng, degraded naming the file", async () => {
  const said: string[] = [];
  const tts = new FallbackTts(undefined, () => fake([[{ type: "done" }]]), {
    why: "Stimme /x.onnx fehlt",
    onDegraded: (r) => said.push(r),
  });
  assert.equal(said.length, 1);
  assert.match(tts.degraded ?? "", /Stimme \/x\.onnx fehlt/);
  assert.deepEqual((await collect(tts, "Hallo.")).frames, [{ type: "done" }]);
});

/** An engine that answers each sentence with the next list of frames. */
function fake(script: TtsFrame[][], name = "fake"): TtsEngine {
  let i = 0;
  return {
    name,
    sampleRate: 16000,
    async *synthesize() {
      for (const f of script[Math.min(i++, script.length - 1)]) yield f;
    },
  };
}

Deno.test("a Piper that has spoken and then crashes is kept: the error reaches the call, no switch", async () => {
  const crash: TtsFrame = {
    type: "error",
    error: { engine: "tts", kind: "crashed", message: "x", retryable: true },
  };
  let backups = 0;
  const tts = new FallbackTts(
    fake([[{ type: "audio", pcm: new Int16Array(160) }, { type: "done" }], [crash]], "piper:v"),
    () => (backups++, fake([[{ type: "done" }]])),
  );
  assert.equal((await collect(tts, "Eins.")).pcm.length, 160);
  assert.deepEqual((await collect(tts, "Zwei.")).frames, [crash]);
  assert.equal(tts.degraded, undefined);
  assert.equal(tts.name, "piper:v");
  assert.equal(backups, 0);
});
