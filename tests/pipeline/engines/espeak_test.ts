/** The espeak-ng adapter against the real espeak-ng (skipped with the reason when it is not installed). */
import assert from "node:assert/strict";
import { rmsDbfs } from "../../_rigs/levels.ts";
import { createEspeakTts } from "../../../pipeline/engines/espeak.ts";
import { APOLOGY_TEXT, presynthesize } from "../../../pipeline/engines/tts_cache.ts";
import { collect, skipWithoutEspeak } from "./tts_support.ts";

const opts = { ignore: skipWithoutEspeak, sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name: "espeak: German speech at 22050 Hz with a sane level, streamed, then done",
  ...opts,
  fn: async () => {
    const tts = createEspeakTts({ voice: "de" });
    assert.equal(tts.sampleRate, 22050);
    const t0 = performance.now();
    let first = 0;
    const r = await collect(tts, "Guten Tag, hier ist Tom. Wie kann ich Ihnen helfen?");
    first = performance.now() - t0;
    assert.deepEqual(r.frames.at(-1), { type: "done" });
    const seconds = r.pcm.length / tts.sampleRate;
    assert.ok(seconds > 1.5 && seconds < 8, `duration ${seconds} s`);
    const level = rmsDbfs(r.pcm);
    assert.ok(level > -35 && level < -3, `level ${level} dBFS`);
    console.log(
      `espeak-ng: ${seconds.toFixed(2)} s of audio in ${r.chunks} chunks, ${first.toFixed(0)} ms total`,
    );
  },
});

Deno.test({
  name: "espeak: umlauts and ß are spoken (UTF-8 input), not dropped",
  ...opts,
  fn: async () => {
    const tts = createEspeakTts();
    const a = await collect(tts, "Grüße aus Köln, schöne Äpfel, Straße.");
    const b = await collect(tts, "Grsse aus Kln, schne pfel, Strae.");
    assert.deepEqual(a.frames.at(-1), { type: "done" });
    assert.notEqual(a.pcm.length, b.pcm.length, "umlauts must change the audio");
    assert.ok(a.pcm.length / 22050 > 1.5);
  },
});

Deno.test({
  name: "espeak: abort mid-sentence stops the stream and kills the process",
  ...opts,
  fn: async () => {
    const tts = createEspeakTts({ speed: 80 });
    const ac = new AbortController();
    const long = "Dies ist ein sehr langer Satz, ".repeat(40);
    let chunks = 0;
    let samples = 0;
    for await (const f of tts.synthesize(long, { signal: ac.signal })) {
      assert.equal(f.type, "audio");
      if (f.type === "audio") samples += f.pcm.length;
      chunks++;
      ac.abort();
    }
    assert.ok(chunks >= 1);
    assert.ok(samples / 22050 < 30, "stopped long before the end of the text");
  },
});

Deno.test({
  name: "espeak: a missing binary is an unavailable error frame; a failing one is crashed",
  ...opts,
  fn: async () => {
    const missing = await collect(createEspeakTts({ bin: "/nonexistent/espeak-ng" }), "Hallo");
    const e1 = missing.frames.at(-1);
    assert.ok(e1?.type === "error");
    assert.equal(e1.error.kind, "unavailable");
    const bad = await collect(createEspeakTts({ bin: "false" }), "Hallo"); // exits 1, writes nothing
    const e2 = bad.frames.at(-1);
    assert.ok(e2?.type === "error", `got ${bad.frames.map((f) => f.type)}`);
    assert.equal(e2.error.kind, "crashed");
    assert.equal(e2.error.retryable, true);
    const empty = await collect(createEspeakTts(), "   ");
    assert.deepEqual(empty.frames, [{ type: "done" }]);
  },
});

Deno.test({
  name: "espeak: the apology pre-synthesized at 16 kHz",
  ...opts,
  fn: async () => {
    const tts = createEspeakTts();
    const native = await collect(tts, APOLOGY_TEXT);
    const pcm = await presynthesize(tts, APOLOGY_TEXT);
    const expected = native.pcm.length * 16000 / 22050;
    assert.ok(Math.abs(pcm.length - expected) < 50, `${pcm.length} vs ${expected}`);
    assert.ok(rmsDbfs(pcm) > -35);
    await assert.rejects(
      () => presynthesize(createEspeakTts({ bin: "/nonexistent/x" }), "Hallo"),
      /unavailable/,
    );
  },
});

Deno.test({
  name: "espeak: first audio latency (measured, not asserted)",
  ...opts,
  fn: async () => {
    const tts = createEspeakTts();
    const firsts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      for await (
        const f of tts.synthesize("Einen Moment, ich sehe nach.", { signal: AbortSignal.timeout(5000) })
      ) {
        if (f.type === "audio" && firsts.length === i) firsts.push(performance.now() - t0);
      }
    }
    firsts.sort((a, b) => a - b);
    console.log(`espeak-ng first audio: median ${firsts[2].toFixed(1)} ms, max ${firsts[4].toFixed(1)} ms`);
  },
});
