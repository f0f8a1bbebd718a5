import { createResampler, decodeMulaw, encodeMulaw, FakeClock, FrameAssembler, loadResampler, Pacer, Reframer, sineWave, Ticker } from "../../gateway/audio/mod.ts";
await loadResampler();
const q = Number(Deno.args[0] ?? 5);
const payload = encodeMulaw(sineWave({ freq: 1000, rate: 8000, samples: 160, peakDb: -12 }));
const calls = 200;
const clock = new FakeClock(0);
const ticker = new Ticker({ clock });
let sink = 0;
const st = Array.from({ length: calls }, () => ({ r: new Reframer(160), up: createResampler(8000, 16000, q), down: createResampler(16000, 8000, q), fa: new FrameAssembler(160), p: new Pacer<Uint8Array>({ ticker, send: (f) => { sink += f.length; } }) }));
function second(stages: number) {
  for (let k = 0; k < 50; k++) {
    for (const s of st) {
      for (const f of s.r.push(payload)) {
        const pcm = decodeMulaw(f);
        if (stages === 0) { s.p.enqueue(encodeMulaw(pcm)); continue; }
        const wide = s.up.process(pcm);
        for (const o of s.fa.push(s.down.process(wide))) s.p.enqueue(encodeMulaw(o));
      }
    }
    clock.advance(20);
  }
}
for (const stages of [0, 1]) {
  second(stages);
  let best = Infinity;
  for (let t = 0; t < 5; t++) { const t0 = performance.now(); second(stages); best = Math.min(best, performance.now() - t0); }
  console.log(`q${q} ${stages ? "full path" : "codec+pacer only"}: ${(best / calls).toFixed(3)} ms per call-second, ${(best * 1000 / (calls * 50)).toFixed(1)} us per frame`);
}
