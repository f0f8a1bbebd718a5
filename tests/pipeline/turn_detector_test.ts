import assert from "node:assert/strict";
import { DEFAULT_PIPELINE_OPTIONS } from "../../pipeline/defaults.ts";
import { TurnDetector, type TurnEvent } from "../../pipeline/turn_detector.ts";

/** The classic events only (no speculative pause, no barge-in probes). */
const CLASSIC = { ...DEFAULT_PIPELINE_OPTIONS, speculativePauseMs: 0, bargeInProbeMs: 0 };

function feed(d: TurnDetector, probs: number[], frameMs = 32, from = 0): TurnEvent[] {
  return probs.flatMap((p, i) => d.push(p, from + i * frameMs, frameMs));
}

Deno.test("speech starts after the minimum duration and ends after the configured silence", () => {
  const d = new TurnDetector({ ...CLASSIC, minSpeechMs: 64, endOfTurnSilenceMs: 320 });
  const ev = feed(d, [0.9, 0.9, 0.9, 0.9, ...Array(12).fill(0.01)]);
  assert.deepStrictEqual(ev.map((e) => e.type), ["speech_start", "speech_end"]);
  assert.equal(ev[0].at, 64);
  const end = ev[1] as Extract<TurnEvent, { type: "speech_end" }>;
  assert.equal(end.lastSpeechAt, 128);
  assert.equal(end.at, 128 + 320);
});

Deno.test("a click shorter than the minimum speech duration is not speech, only noise for the log", () => {
  const d = new TurnDetector({ ...CLASSIC, minSpeechMs: 100 });
  assert.deepStrictEqual(feed(d, [0.9, 0.9, 0.01, 0.9, 0.01, 0.01]), [
    { type: "noise", at: 64, onsetAt: 0, durationMs: 64 },
    { type: "noise", at: 128, onsetAt: 96, durationMs: 32 },
  ]);
});

Deno.test("speech past the barge-in minimum reports speech_long once", () => {
  const d = new TurnDetector({ ...CLASSIC, minSpeechMs: 64, bargeInMinMs: 320 });
  const ev = feed(d, Array(20).fill(0.9));
  assert.deepStrictEqual(ev.map((e) => e.type), ["speech_start", "speech_long"]);
  assert.equal(ev[1].at, 320);
});

Deno.test("hysteresis: probabilities between the two thresholds keep speech going", () => {
  const d = new TurnDetector({ ...CLASSIC, minSpeechMs: 32, endOfTurnSilenceMs: 96 });
  const ev = feed(d, [0.9, 0.4, 0.4, 0.4, 0.4, 0.1, 0.1, 0.1]);
  assert.deepStrictEqual(ev.map((e) => e.type), ["speech_start", "speech_end"]);
  assert.equal((ev[1] as Extract<TurnEvent, { type: "speech_end" }>).lastSpeechAt, 160);
});
