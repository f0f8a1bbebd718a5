import assert from "node:assert/strict";
import { dominantFrequency, goertzelPower, rmsDbfs, SILENCE_DBFS, sineWave, toneDbfs } from "./levels.ts";

Deno.test("a full-scale sine measures -3 dBFS; a -20 dB sine measures -23 dBFS", () => {
  assert.ok(Math.abs(rmsDbfs(sineWave({ freq: 1000, rate: 8000, samples: 8000, peakDb: 0 })) + 3.01) < 0.05);
  const t = sineWave({ freq: 1000, rate: 8000, durationMs: 500, peakDb: -20 });
  assert.equal(t.length, 4000);
  assert.ok(Math.abs(rmsDbfs(t) + 23.01) < 0.05);
  assert.equal(rmsDbfs(new Int16Array(10)), SILENCE_DBFS);
});

Deno.test("toneDbfs equals the tone's RMS level at its frequency, off-bin too", () => {
  for (const freq of [440, 1000, 1234.5, 3000]) {
    const t = sineWave({ freq, rate: 16000, samples: 7919, peakDb: -12 });
    assert.ok(Math.abs(toneDbfs(t, 16000, freq) - rmsDbfs(t)) < 0.1, `${freq} Hz`);
  }
});

Deno.test("Goertzel separates a loud tone from a quiet one 1 kHz away", () => {
  const loud = sineWave({ freq: 1000, rate: 8000, samples: 4000, peakDb: -6 });
  const quiet = sineWave({ freq: 2000, rate: 8000, samples: 4000, peakDb: -46 });
  const mix = loud.map((s, i) => s + quiet[i]);
  assert.ok(Math.abs(toneDbfs(mix, 8000, 2000) - rmsDbfs(quiet)) < 0.5);
  assert.ok(goertzelPower(mix, 8000, 1500) < goertzelPower(mix, 8000, 2000) / 100);
});

Deno.test("dominantFrequency finds a tone to within 1 Hz", () => {
  for (const freq of [425, 1000, 3333]) {
    const t = sineWave({ freq, rate: 8000, samples: 8000, peakDb: -10 });
    assert.ok(Math.abs(dominantFrequency(t, 8000) - freq) <= 1, `${freq} Hz`);
  }
});
