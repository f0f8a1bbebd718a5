/**
 * What recording costs a call: CPU time to record 10 minutes of a call (caller frames every 20 ms, TOM's
 * answers in 2 s pieces, a barge-in flush every 30 s) through the real CallRecorder into a real file,
 * beside the baseline of the same frames handled without a recorder (the copy every transport does
 * anyway), in the same run. Also the bytes written per call minute.
 *
 *   deno run -A tests/bench/recording_bench.ts
 *
 * @module
 */
import { join } from "node:path";
import { loadConfig } from "../../infra/config.ts";
import { silentLogger } from "../../infra/log.ts";
import { startRecording } from "../../gateway/recording.ts";
import { createAccount, createCall, createPerson, openStore } from "../../store/mod.ts";

const MINUTES = 10;
const FRAMES = MINUTES * 60 * 50;
const RUNS = 5;

const dir = await Deno.makeTempDir({ prefix: "tom-rec-bench-" });
const config = loadConfig({ env: { TOM_DATA_DIR: dir, TOM_RECORDING_ENABLED: "true" }, cwd: dir });
const store = openStore(":memory:");
const account = createAccount(store, { name: "Praxis", kind: "clinical" });
const person = createPerson(store, account.id, {
  kind: "patient",
  displayName: "Bench",
  phoneE164: "+4930999000",
  consentRecording: true,
});
const caller = new Int16Array(320).map((_, i) => Math.round(3000 * Math.sin(i / 5)));
const answer = new Int16Array(32_000).map((_, i) => Math.round(4000 * Math.sin(i / 7)));

function run(record: boolean): { ms: number; bytes: number } {
  let clock = 1_700_000_000_000;
  const call = createCall(store, account.id, {
    direction: "inbound",
    transport: "browser",
    personId: person.id,
    startedAt: clock,
  });
  const rec = record
    ? startRecording({ config, store, log: silentLogger, now: () => clock }, {
      accountId: account.id,
      callId: call.id,
      startedAt: clock,
    })
    : undefined;
  if (record && !rec) throw new Error("the recorder did not start");
  let sink = 0;
  const t0 = performance.now();
  for (let f = 0; f < FRAMES; f++) {
    clock += 20;
    // What a transport does with each frame anyway: hand a copy on.
    const frame = caller.slice();
    sink += frame[0];
    rec?.caller(frame, f * 20);
    if (f % 150 === 0) rec?.tom(answer);
    if (f % 1500 === 1499) rec?.clear();
  }
  rec?.close();
  const ms = performance.now() - t0;
  const bytes = rec ? Deno.statSync(join(dir, "recordings", account.id, `${call.id}.wav`)).size : 0;
  if (sink === 42) console.log("");
  return { ms, bytes };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base: number[] = [];
const recorded: number[] = [];
let bytes = 0;
run(true); // warm-up
for (let i = 0; i < RUNS; i++) {
  base.push(run(false).ms);
  const r = run(true);
  recorded.push(r.ms);
  bytes = r.bytes;
}
const b = median(base);
const r = median(recorded);
console.log(`recording: ${MINUTES} min of call audio, median of ${RUNS} interleaved runs`);
console.log(`  baseline (frames handed on, no recorder)  ${b.toFixed(1)} ms`);
console.log(
  `  recorded (stereo WAV, real file)          ${r.toFixed(1)} ms   ${(r / b).toFixed(1)}x baseline`,
);
console.log(
  `  CPU per call minute with recording: ${(r / MINUTES).toFixed(2)} ms (${
    ((r / MINUTES) / 60_000 * 100).toFixed(4)
  } % of one core)`,
);
console.log(
  `  file: ${(bytes / 1e6).toFixed(1)} MB, ${(bytes / MINUTES / 1e6).toFixed(2)} MB per call minute`,
);
store.close();
await Deno.remove(dir, { recursive: true });
