import assert from "node:assert/strict";
import { speechSegments } from "../../../pipeline/engines/vad_segments.ts";

const frames = (spec: string) => [...spec].map((c) => (c === "#" ? 0.9 : c === "~" ? 0.4 : 0.05));

Deno.test("vad segments: hysteresis keeps speech through probabilities between the two thresholds", () => {
  // 10 ms frames: 3 silent, 5 speech, 4 in-between (0.4 >= 0.35), 5 speech, 20 silent
  const p = frames("...#####~~~~#####....................");
  assert.deepEqual(speechSegments(p, { frameMs: 10, minSpeechMs: 0, minSilenceMs: 50 }), [
    { startMs: 30, endMs: 170 },
  ]);
});

Deno.test("vad segments: a pause longer than minSilenceMs splits, a shorter one does not", () => {
  const p = frames("#####...#####.......#####");
  assert.deepEqual(speechSegments(p, { frameMs: 10, minSpeechMs: 0, minSilenceMs: 50 }), [
    { startMs: 0, endMs: 130 },
    { startMs: 200, endMs: 250 },
  ]);
});

Deno.test("vad segments: blips shorter than minSpeechMs are dropped; speech to the end is closed", () => {
  assert.deepEqual(speechSegments(frames("..#......######"), { frameMs: 32, minSpeechMs: 100 }), [
    { startMs: 9 * 32, endMs: 15 * 32 },
  ]);
  assert.deepEqual(speechSegments([], { frameMs: 32 }), []);
});
