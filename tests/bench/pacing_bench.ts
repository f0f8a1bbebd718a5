/**
 * Pacing while a long answer arrives: N calls on AudioSocket's paced sender (the shared Pacer and
 * OutboundAudio of gateway/audio/, shared 10 ms ticker, silence frames, slin 8 kHz) each get 20 s of TTS audio at 22050 Hz
 * in four 5 s chunks 50 ms apart (Piper delivers a sentence at a time). Two ways of converting it, in the
 * same run:
 *
 * - whole (the old way, the baseline): each chunk resampled 22050 -> 16000 at once, then resampled to
 *   8 kHz and encoded at once, every frame queued;
 * - sliced (now): the chunk resampled 0.25 s at a time with the event loop free between slices (the
 *   reply stage), and converted to frames a few at a time as the sender's schedule needs them.
 *
 * Figures: lateness of each frame's send against its slot on the ideal 20 ms line (anchored at the
 * call's earliest frame), max and p99, over all calls; the longest gap between two frames of a call.
 *
 * After this tree's figures, the same bench of a baseline tree (default 5756996, the commit before the
 * one media path: Asterisk's own Playout and OutboundAudio) runs in the same invocation, as a child.
 *
 *   deno run -A tests/bench/pacing_bench.ts [--calls N] [--seconds S] [--baseline=<commit or dir> | --baseline=none]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { createResampler, loadResampler, OutboundAudio, Pacer } from "../../gateway/audio/mod.ts";
import { sineWave } from "../_rigs/levels.ts";
import { baselineTree } from "./_baseline.ts";

const args = parseArgs({
  args: Deno.args,
  options: { calls: { type: "string" }, seconds: { type: "string" }, baseline: { type: "string" } },
  strict: false,
});
/** The commit before the one media path (issue 12). */
const DEFAULT_BASELINE = "5756996";
const CALLS = Number(args.values.calls ?? 8);
const SECONDS = Number(args.values.seconds ?? 20);
const BASELINE = typeof args.values.baseline === "string" ? args.values.baseline : DEFAULT_BASELINE;
const TTS_RATE = 22050;
const CHUNKS = 4;

type Mode = "whole" | "sliced";

interface Result {
  mode: Mode;
  p99: number;
  max: number;
  maxGap: number;
  frames: number;
}

async function run(mode: Mode): Promise<Result> {
  const speech = sineWave({ freq: 440, rate: TTS_RATE, durationMs: SECONDS * 1000, peakDb: -12 });
  const chunkLen = Math.ceil(speech.length / CHUNKS);
  const sends: number[][] = [];
  const stops: (() => void)[] = [];
  const feeds: Promise<void>[] = [];
  for (let c = 0; c < CALLS; c++) {
    const times: number[] = [];
    sends.push(times);
    const ref: { out?: OutboundAudio } = {};
    const playout = new Pacer<Uint8Array>({
      send: () => void times.push(performance.now()),
      onMark: () => {},
      prebufferMs: 20,
      ...(mode === "sliced" ? { refill: (n: number) => ref.out?.fill(n) } : {}),
    });
    const out = new OutboundAudio({
      codec: "l16",
      rate: 8000,
      onFrame: (f) => playout.enqueue(f),
      ...(mode === "sliced" ? { sliceFrames: 5 } : {}),
    });
    ref.out = out;
    playout.silence = out.encode(new Int16Array(out.frameSamples));
    const o = out;
    stops.push(() => {
      playout.stop();
      o.dispose();
    });
    feeds.push((async () => {
      await new Promise((r) => setTimeout(r, 200)); // some silence first
      const rs = createResampler(TTS_RATE, 16000);
      for (let k = 0; k < CHUNKS; k++) {
        const chunk = speech.subarray(k * chunkLen, (k + 1) * chunkLen);
        if (mode === "whole") o.push(rs.process(chunk).slice());
        else {
          const slice = Math.round(TTS_RATE * 0.25);
          for (let at = 0; at < chunk.length; at += slice) {
            if (at > 0) await new Promise((r) => setTimeout(r, 0));
            o.push(rs.process(chunk.subarray(at, at + slice)).slice());
          }
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      rs.dispose();
    })());
  }
  await Promise.all(feeds);
  await new Promise((r) => setTimeout(r, SECONDS * 1000 + 500));
  for (const s of stops) s();
  const late: number[] = [];
  let maxGap = 0;
  for (const times of sends) {
    let origin = Infinity;
    for (let i = 0; i < times.length; i++) origin = Math.min(origin, times[i] - i * 20);
    for (let i = 0; i < times.length; i++) {
      late.push(times[i] - (origin + i * 20));
      if (i > 0) maxGap = Math.max(maxGap, times[i] - times[i - 1]);
    }
  }
  late.sort((a, b) => a - b);
  return {
    mode,
    p99: late[Math.floor(late.length * 0.99)] ?? 0,
    max: late.at(-1) ?? 0,
    maxGap,
    frames: late.length,
  };
}

await loadResampler();
const results: Result[] = [];
for (const mode of ["whole", "sliced"] as Mode[]) results.push(await run(mode));
console.log(
  `pacing while ${SECONDS} s of 22050 Hz TTS arrives in ${CHUNKS} chunks, ${CALLS} calls (AudioSocket, slin 8 kHz)`,
);
console.log("conversion | frames | lateness p99 ms | lateness max ms | max gap ms");
for (const r of results) {
  console.log(
    `${r.mode.padEnd(10)} | ${String(r.frames).padStart(6)} | ${r.p99.toFixed(1).padStart(15)} | ` +
      `${r.max.toFixed(1).padStart(15)} | ${r.maxGap.toFixed(1).padStart(10)}`,
  );
}
if (BASELINE !== "none") {
  const tree = await baselineTree(BASELINE);
  console.log(`\nbaseline ${BASELINE} (its own pacing bench, same machine, right after):`);
  const status = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      join(tree, "tests", "bench", "pacing_bench.ts"),
      "--calls",
      String(CALLS),
      "--seconds",
      String(SECONDS),
      // a tree with this option passes --baseline=none; the default baseline has no such option
      ...(BASELINE === DEFAULT_BASELINE ? [] : ["--baseline=none"]),
    ],
    cwd: tree,
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  if (!status.success) Deno.exit(1);
}
