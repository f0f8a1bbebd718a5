import assert from "node:assert/strict";
import {
  createResampler,
  loadResampler,
  resamplerLoaded,
  resamplerMemoryBytes,
} from "../../../gateway/audio/resample.ts";
import { rmsDbfs, sineWave, toneDbfs } from "../../_rigs/levels.ts";

await loadResampler();

/** Resample a whole signal in one call, then flush. */
function oneShot(from: number, to: number, pcm: Int16Array, quality?: number): Int16Array {
  const r = createResampler(from, to, quality);
  const out = concat([r.process(pcm), r.flush()]);
  r.dispose();
  return out;
}

function concat(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The steady part of an output: drop the filter's start-up and tail (100 ms each side). */
function steady(pcm: Int16Array, rate: number): Int16Array {
  const edge = Math.round(rate / 10);
  return pcm.subarray(edge, pcm.length - edge);
}

Deno.test("loadResampler is idempotent and loads the wasm once", async () => {
  const a = loadResampler();
  const b = loadResampler();
  assert.equal(a, b);
  await a;
  assert.ok(resamplerLoaded());
});

Deno.test("a 5 kHz tone at 22050 Hz resampled to 8 kHz comes out at least 40 dB down", () => {
  for (const quality of [3, 5]) {
    const input = sineWave({ freq: 5000, rate: 22050, samples: 22050, peakDb: -1 });
    const inDb = rmsDbfs(input);
    const out = steady(oneShot(22050, 8000, input, quality), 8000);
    // All output energy lies in 0-4 kHz (the new band); the alias would sit at 8000 - 5000 = 3000 Hz.
    assert.ok(rmsDbfs(out) <= inDb - 40, `quality ${quality}: in-band energy ${rmsDbfs(out)} vs ${inDb}`);
    assert.ok(
      toneDbfs(out, 8000, 3000) <= inDb - 40,
      `quality ${quality}: alias ${toneDbfs(out, 8000, 3000)}`,
    );
  }
});

Deno.test("a 1 kHz tone passes 22050 -> 8000 Hz with less than 1 dB loss", () => {
  const input = sineWave({ freq: 1000, rate: 22050, samples: 22050, peakDb: -6 });
  const out = steady(oneShot(22050, 8000, input), 8000);
  const loss = toneDbfs(input, 22050, 1000) - toneDbfs(out, 8000, 1000);
  assert.ok(Math.abs(loss) < 1, `loss ${loss} dB`);
  assert.ok(Math.abs(rmsDbfs(out) - rmsDbfs(input)) < 1);
});

Deno.test("streaming in odd-sized chunks equals one-shot processing sample for sample", () => {
  const input = sineWave({ freq: 1234, rate: 22050, samples: 22050, peakDb: -3 });
  for (let i = 0; i < input.length; i += 7) input[i] ^= 0x155; // not just a tone
  for (const [from, to] of [[22050, 8000], [8000, 16000], [16000, 8000], [44100, 16000]]) {
    const whole = oneShot(from, to, input);
    const r = createResampler(from, to);
    const parts: Int16Array[] = [];
    const sizes = [37, 160, 1, 999, 0, 320, 4097];
    for (let at = 0, k = 0; at < input.length; k++) {
      const size = sizes[k % sizes.length];
      parts.push(r.process(input.subarray(at, at + size)));
      at += size;
    }
    parts.push(r.flush());
    r.dispose();
    assert.deepEqual(concat(parts), whole, `${from} -> ${to}`);
  }
});

Deno.test("8k -> 16k -> 8k keeps a 1 kHz tone's level and frequency", () => {
  const input = sineWave({ freq: 1000, rate: 8000, samples: 8000, peakDb: -10 });
  const up = createResampler(8000, 16000);
  const down = createResampler(16000, 8000);
  const parts: Int16Array[] = [];
  for (let at = 0; at < input.length; at += 160) {
    const wide = up.process(input.subarray(at, at + 160));
    assert.ok(Math.abs(wide.length - 320) <= 1, `20 ms at 8k became ${wide.length} samples at 16k`);
    parts.push(down.process(wide));
  }
  parts.push(down.process(up.flush()), down.flush());
  const out = steady(concat(parts), 8000);
  assert.ok(Math.abs(toneDbfs(out, 8000, 1000) - toneDbfs(input, 8000, 1000)) < 0.5);
  assert.ok(up.latencySamples > 0 && down.latencySamples > 0);
  up.dispose();
  down.dispose();
});

Deno.test("equal rates give an identity resampler that copies", () => {
  const r = createResampler(16000, 16000);
  const input = sineWave({ freq: 440, rate: 16000, samples: 320 });
  const out = r.process(input);
  assert.deepEqual(out, input);
  assert.notEqual(out, input);
  assert.equal(r.flush().length, 0);
  assert.equal(r.latencySamples, 0);
  r.dispose();
  assert.throws(() => r.process(input), /disposed/);
});

Deno.test("dispose frees wasm memory: a thousand create/dispose cycles do not grow it", () => {
  const warm = createResampler(22050, 8000);
  warm.process(new Int16Array(441));
  warm.dispose();
  const before = resamplerMemoryBytes();
  for (let i = 0; i < 1000; i++) {
    const r = createResampler(i % 2 ? 22050 : 8000, i % 2 ? 8000 : 16000);
    r.process(new Int16Array(160));
    r.dispose();
    r.dispose(); // idempotent
  }
  assert.equal(resamplerMemoryBytes(), before);
});

Deno.test("createResampler rejects bad rates and qualities", () => {
  assert.throws(() => createResampler(0, 8000), RangeError);
  assert.throws(() => createResampler(8000, 8000.5), RangeError);
  assert.throws(() => createResampler(8000, 16000, 11), RangeError);
  assert.throws(() => createResampler(8000, 192000), /12x/);
});

Deno.test("the aliasing measurement catches a resampler without a low-pass filter", () => {
  // Negative control: picking the nearest input sample folds 5 kHz down to 3 kHz at full level.
  const input = sineWave({ freq: 5000, rate: 22050, samples: 22050, peakDb: -1 });
  const naive = new Int16Array(8000).map((_, i) =>
    input[Math.min(input.length - 1, Math.round(i * 22050 / 8000))]
  );
  assert.ok(toneDbfs(naive, 8000, 3000) > rmsDbfs(input) - 10);
});

Deno.test("process writes into a caller's buffer when given one, and checks its size", () => {
  const input = sineWave({ freq: 440, rate: 8000, samples: 1600 });
  const a = createResampler(8000, 16000);
  const b = createResampler(8000, 16000);
  const buf = new Int16Array(a.maxOutput(160));
  const viaBuffer: Int16Array[] = [];
  const fresh: Int16Array[] = [];
  for (let at = 0; at < input.length; at += 160) {
    const out = a.process(input.subarray(at, at + 160), buf);
    assert.equal(out.buffer, buf.buffer);
    viaBuffer.push(out.slice());
    fresh.push(b.process(input.subarray(at, at + 160)));
  }
  assert.deepEqual(concat(viaBuffer), concat(fresh));
  assert.throws(() => a.process(input.subarray(0, 160), new Int16Array(10)), RangeError);
  a.dispose();
  b.dispose();
});
