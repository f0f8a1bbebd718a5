/**
 * The Piper adapter against a protocol stand-in (fixtures/piper_stub.ts) built from Piper's documented
 * CLI: Piper itself cannot be installed here. The same TtsEngine interface runs against real espeak-ng
 * in espeak_test.ts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createPiperTts, openPiperTts, type PiperOptions } from "../../../pipeline/engines/piper.ts";
import { collect } from "./tts_support.ts";

const STUB = join(import.meta.dirname ?? ".", "fixtures", "piper_stub.ts");
const DENO_ARGS = ["run", "--allow-read", "--allow-env", STUB];

async function voice(rate?: number): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "piper_voice_" });
  const model = join(dir, "de_DE-test-medium.onnx");
  await Deno.writeFile(model, new Uint8Array(16));
  if (rate !== undefined) {
    await Deno.writeTextFile(`${model}.json`, JSON.stringify({ audio: { sample_rate: rate } }));
  }
  return model;
}

function stub(model: string, extra: Partial<PiperOptions> = {}) {
  return createPiperTts({ model, bin: Deno.execPath(), binArgs: DENO_ARGS, ...extra });
}

/** The stand-in's length: 60 ms per character of each sentence. */
const samplesFor = (text: string, rate = 22050) =>
  text.split(/(?<=[.!?])\s+/).reduce((n, s) => n + Math.max(1, Math.round(s.length * 0.06 * rate)), 0);

Deno.test("piper: one process serves consecutive sentences, each ending exactly at its own audio", async () => {
  const tts = stub(await voice());
  try {
    const a = await collect(tts, "Guten Tag.");
    const pid = tts.pid;
    const b = await collect(tts, "Hier ist Tom, Ihr Assistent.");
    assert.deepEqual(a.frames.at(-1), { type: "done" });
    assert.deepEqual(b.frames.at(-1), { type: "done" });
    assert.deepEqual(a.pcm.length, samplesFor("Guten Tag."));
    assert.deepEqual(b.pcm.length, samplesFor("Hier ist Tom, Ihr Assistent."));
    assert.deepEqual(tts.pid, pid, "no restart between sentences");
    assert.deepEqual(tts.sampleRate, 22050);
  } finally {
    await tts.close();
  }
});

Deno.test("piper: a line Piper splits into two sentences still ends exactly (sentence_silence 0)", async () => {
  const tts = stub(await voice());
  try {
    const text = "Erster Satz. Zweiter Satz!";
    const r = await collect(tts, text);
    assert.deepEqual(r.pcm.length, samplesFor(text));
    assert.deepEqual(r.frames.at(-1), { type: "done" });
  } finally {
    await tts.close();
  }
});

Deno.test("piper: the rate comes from VOICE.onnx.json, JSON input works", async () => {
  const tts = await openPiperTts({
    model: await voice(16000),
    bin: Deno.execPath(),
    binArgs: DENO_ARGS,
    jsonInput: true,
  });
  try {
    assert.deepEqual(tts.sampleRate, 16000);
    const r = await collect(tts, 'Sie sagte: "Hallo"\nund ging.');
    assert.deepEqual(r.pcm.length, samplesFor('Sie sagte: "Hallo" und ging.', 16000));
  } finally {
    await tts.close();
  }
});

Deno.test("piper: concurrent requests are serialized in order", async () => {
  const tts = stub(await voice());
  try {
    const texts = ["Eins.", "Zwei Worte.", "Drei kurze Worte."];
    const results = await Promise.all(texts.map((t) => collect(tts, t)));
    results.forEach((r, i) => assert.deepEqual(r.pcm.length, samplesFor(texts[i])));
  } finally {
    await tts.close();
  }
});

Deno.test("piper: abort stops the audio and the next sentence is not polluted by the rest", async () => {
  const tts = stub(await voice());
  try {
    const ac = new AbortController();
    let got = 0;
    for await (const f of tts.synthesize("Ein langsamer Satz #slow mit viel Text.", { signal: ac.signal })) {
      assert.ok(f.type === "audio", `unexpected ${f.type}`);
      got += f.pcm.length;
      ac.abort();
    }
    assert.ok(got > 0);
    const next = await collect(tts, "Danach.");
    assert.deepEqual(next.pcm.length, samplesFor("Danach."));
    assert.deepEqual(next.frames.at(-1), { type: "done" });
  } finally {
    await tts.close();
  }
});

Deno.test("piper: a crash is a retryable error frame and the next sentence restarts Piper", async () => {
  const tts = stub(await voice());
  try {
    await collect(tts, "Vorher.");
    const pid = tts.pid;
    const r = await collect(tts, "Das geht schief #crash.");
    const last = r.frames.at(-1);
    assert.ok(last?.type === "error", `expected an error frame, got ${JSON.stringify(last)}`);
    assert.deepEqual(last.error.kind, "crashed");
    assert.deepEqual(last.error.retryable, true);
    assert.ok(last.error.message.includes("Simulated crash"), last.error.message);
    const after = await collect(tts, "Wieder da.");
    assert.deepEqual(after.pcm.length, samplesFor("Wieder da."));
    assert.ok(tts.pid !== pid);
  } finally {
    await tts.close();
  }
});

Deno.test("piper: a hanging Piper times out and is restarted", async () => {
  const tts = stub(await voice(), { timeoutMs: 2_000 });
  try {
    const r = await collect(tts, "Hängt #hang.");
    const last = r.frames.at(-1);
    assert.ok(last?.type === "error");
    assert.deepEqual(last.error.kind, "timeout");
    assert.deepEqual((await collect(tts, "Weiter.")).pcm.length, samplesFor("Weiter."));
  } finally {
    await tts.close();
  }
});

Deno.test("piper: a log line without audio= falls back to stdout going quiet", async () => {
  const tts = stub(await voice(), { settleMs: 300 });
  try {
    const text = "Ohne Dauer #noaudio.";
    const r = await collect(tts, text);
    assert.deepEqual(r.pcm.length, samplesFor(text));
    assert.deepEqual((await collect(tts, "Danach.")).pcm.length, samplesFor("Danach."));
  } finally {
    await tts.close();
  }
});

Deno.test("piper: a missing binary is an unavailable error frame, empty text is done at once", async () => {
  const tts = createPiperTts({ model: await voice(), bin: "/nonexistent/piper" });
  const r = await collect(tts, "Hallo.");
  const last = r.frames.at(-1);
  assert.ok(last?.type === "error");
  assert.deepEqual(last.error.kind, "unavailable");
  assert.deepEqual(last.error.retryable, false);
  assert.deepEqual((await collect(tts, "  ")).frames, [{ type: "done" }]);
  await tts.close();
  const closed = await collect(tts, "Hallo.");
  assert.deepEqual(closed.frames[0].type, "error");
});
