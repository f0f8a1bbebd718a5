/**
 * `tom qc`: measured RMS, clipping ratio, DC offset and SNR of generated WAVs with known values (tone
 * bursts with pauses plus seeded Gaussian noise), one file per failing check with that check named,
 * stereo reports per channel, files a dead writer left (sizes 0 or 0xFFFFFFFF), unreadable files (exit 2)
 * and the --json shape.
 */
import assert from "node:assert/strict";
import { encodeWav, wavHeader } from "../../../gateway/audio/wav.ts";
import { analyseWav, QC_LIMITS } from "../../../app/qc_report.ts";
import { readWav } from "../../../gateway/mod.ts";
import { qcMain } from "../../../app/commands/qc.ts";
import { seededRandom } from "../../gateway/_fuzz.ts";

const RATE = 16_000;

/** Speech-like test signal: 1 kHz bursts of `amp` for 400 ms, 400 ms pauses, noise of `sigma`, plus `dc`. */
function signal(
  opts: { amp: number; sigma: number; dc?: number; seconds?: number; seed?: number },
): Int16Array {
  const { amp, sigma, dc = 0, seconds = 8, seed = 7 } = opts;
  const rand = seededRandom(seed);
  const n = seconds * RATE;
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const on = Math.floor(i / (0.4 * RATE)) % 2 === 0;
    // Box-Muller: a standard normal from two uniforms.
    const g = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    const x = (on ? amp * Math.sin((2 * Math.PI * 1000 * i) / RATE) : 0) + sigma * g + dc;
    out[i] = Math.max(-32768, Math.min(32767, Math.round(x)));
  }
  return out;
}

/** What the signal's parameters say the measures are. */
function expected(amp: number, sigma: number, dc = 0) {
  return {
    rms: Math.sqrt(amp ** 2 / 4 + sigma ** 2 + dc ** 2),
    snrDb: 10 * Math.log10(amp ** 2 / 2 / sigma ** 2),
  };
}

function stereo(left: Int16Array, right: Int16Array): Uint8Array {
  const bytes = new Uint8Array(44 + left.length * 4);
  bytes.set(wavHeader(RATE, 2, left.length * 4));
  const v = new DataView(bytes.buffer);
  for (let i = 0; i < left.length; i++) {
    v.setInt16(44 + i * 4, left[i], true);
    v.setInt16(46 + i * 4, right[i], true);
  }
  return bytes;
}

/** Run qcMain on `bytes` written to a temporary file; returns the exit code and what it printed. */
async function runQc(bytes: Uint8Array | null, json = false) {
  const dir = await Deno.makeTempDir({ prefix: "tom-qc-" });
  const file = `${dir}/x.wav`;
  if (bytes) await Deno.writeFile(file, bytes);
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => void out.push(a.join(" "));
  console.error = (...a: unknown[]) => void err.push(a.join(" "));
  try {
    const code = await qcMain({ file, json });
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("qc measures RMS, DC offset and SNR of a known signal within tolerance and passes it", async () => {
  const [amp, sigma, dc] = [4000, 40, 50];
  const r = analyseWav(encodeWav(signal({ amp, sigma, dc }), RATE));
  const want = expected(amp, sigma, dc);
  const c = r.channelReports[0];
  assert.equal(r.channels, 1);
  assert.equal(r.sampleRate, RATE);
  assert.equal(r.durationSeconds, 8);
  assert.ok(Math.abs(c.rms - want.rms) / want.rms < 0.01, `rms ${c.rms} vs ${want.rms}`);
  assert.ok(Math.abs(c.dcOffset - dc) < 2, `dc ${c.dcOffset}`);
  assert.ok(Math.abs(c.snrDb - want.snrDb) < 1.5, `snr ${c.snrDb} vs ${want.snrDb}`);
  assert.equal(c.clippingRatio, 0);
  assert.deepEqual(r.failures, []);
  const run = await runQc(encodeWav(signal({ amp, sigma, dc }), RATE));
  assert.equal(run.code, 0);
  assert.match(run.out, /Verdict: PASS/);
});

Deno.test("qc measures a low SNR and names it", async () => {
  const [amp, sigma] = [4000, 800];
  const r = analyseWav(encodeWav(signal({ amp, sigma }), RATE));
  const want = expected(amp, sigma);
  assert.ok(Math.abs(r.channelReports[0].snrDb - want.snrDb) < 1.5, `snr ${r.channelReports[0].snrDb}`);
  assert.equal(r.failures.length, 1);
  assert.match(r.failures[0], /^noisy: SNR \d+\.\d dB is not above 20 dB$/);
  const run = await runQc(encodeWav(signal({ amp, sigma }), RATE));
  assert.equal(run.code, 1);
  assert.match(run.out, /Verdict: FAIL\n {2}- noisy/);
});

Deno.test("qc fails each check on its own file and names only that check", () => {
  const cases: [string, Int16Array, RegExp][] = [
    ["quiet", signal({ amp: 300, sigma: 5 }), /^too quiet: RMS \d+ is below 300$/],
    ["loud", signal({ amp: 20_000, sigma: 100 }), /^too loud: RMS \d+ is above 9000$/],
    ["dc", signal({ amp: 4000, sigma: 40, dc: 500 }), /^DC offset: mean 50\d \(limit ±200\)$/],
  ];
  for (const [name, pcm, failure] of cases) {
    const r = analyseWav(encodeWav(pcm, RATE));
    assert.equal(r.pass, false, name);
    assert.equal(r.failures.length, 1, `${name}: ${r.failures}`);
    assert.match(r.failures[0], failure, name);
  }
});

Deno.test("qc counts clipped samples exactly (at 32767 or -32768) and fails above 0.1 %", () => {
  const pcm = signal({ amp: 4000, sigma: 40 });
  // 0.5 % of the samples at full scale, inside the tone bursts (every 100th sample of each burst).
  let clipped = 0;
  for (let i = 0; i < pcm.length; i += 100) {
    if (i % (0.8 * RATE) < 0.4 * RATE) {
      pcm[i] = clipped % 2 === 0 ? 32767 : -32768;
      clipped++;
    }
  }
  const r = analyseWav(encodeWav(pcm, RATE));
  assert.equal(r.channelReports[0].clippingRatio, clipped / pcm.length);
  assert.ok(clipped / pcm.length > QC_LIMITS.clippingMax);
  assert.deepEqual(r.failures.length, 1);
  assert.match(r.failures[0], /^clipping: 0\.500% of samples at full scale \(limit 0\.100%\)$/);
});

Deno.test("qc reports stereo per channel and names the failing channel; --json has the report's shape", async () => {
  const good = signal({ amp: 4000, sigma: 40 });
  const quiet = signal({ amp: 300, sigma: 5, seed: 9 });
  const run = await runQc(stereo(good, quiet), true);
  assert.equal(run.code, 1);
  const j = JSON.parse(run.out);
  assert.deepEqual(Object.keys(j).sort(), [
    "channelReports",
    "channels",
    "durationSeconds",
    "failures",
    "file",
    "limits",
    "pass",
    "sampleRate",
  ]);
  assert.equal(j.channels, 2);
  assert.equal(j.pass, false);
  assert.deepEqual(j.channelReports.map((c: { channel: string }) => c.channel), ["left", "right"]);
  for (const c of j.channelReports) {
    assert.deepEqual(Object.keys(c).sort(), [
      "channel",
      "clippingRatio",
      "dcOffset",
      "failures",
      "pass",
      "rms",
      "samples",
      "snrDb",
    ]);
  }
  assert.equal(j.channelReports[0].pass, true);
  assert.equal(j.failures.length, 1);
  assert.match(j.failures[0], /^right: too quiet/);
  assert.deepEqual(j.limits, QC_LIMITS);
});

Deno.test("qc reads files a dead writer left: sizes 0xFFFFFFFF or 0, a partial last frame", () => {
  const left = signal({ amp: 4000, sigma: 40 });
  const right = signal({ amp: 2000, sigma: 20, seed: 3 });
  const whole = stereo(left, right);
  const want = readWav(whole);
  const streaming = new Uint8Array(whole.length + 3); // 3 bytes of a frame that was never finished
  streaming.set(whole);
  streaming.set(wavHeader(RATE, 2)); // sizes 0xFFFFFFFF
  const zeros = whole.slice();
  new DataView(zeros.buffer).setUint32(4, 0, true);
  new DataView(zeros.buffer).setUint32(40, 0, true);
  for (const bytes of [streaming, zeros]) {
    const got = readWav(bytes);
    assert.equal(got.channels.length, 2);
    assert.deepEqual(got.channels, want.channels);
  }
  // Cut in the middle of the data (the header still claims the full size): the samples that are there.
  const cut = readWav(whole.subarray(0, 44 + 4 * 1000 + 2));
  assert.equal(cut.channels[0].length, 1000);
  assert.equal(cut.channels[1][999], right[999]);
});

Deno.test("qc exits 2 with a clear message for a missing, malformed or truncated file", async () => {
  const missing = await runQc(null);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /^tom qc: cannot read .*x\.wav: /);
  const garbage = await runQc(new TextEncoder().encode("hello, this is not audio"));
  assert.equal(garbage.code, 2);
  assert.match(garbage.err, /is not a readable WAV file: no RIFF\/WAVE header$/);
  const valid = encodeWav(signal({ amp: 4000, sigma: 40, seconds: 1 }), RATE);
  const headerCut = await runQc(valid.subarray(0, 30));
  assert.equal(headerCut.code, 2);
  assert.match(headerCut.err, /is not a readable WAV file: the fmt chunk is cut short$/);
  const noData = await runQc(valid.subarray(0, 36));
  assert.equal(noData.code, 2);
  assert.match(noData.err, /is not a readable WAV file: no data chunk$/);
  const badFormat = valid.slice();
  new DataView(badFormat.buffer).setUint16(34, 12, true); // 12 bits per sample
  const unsupported = await runQc(badFormat);
  assert.equal(unsupported.code, 2);
  assert.match(unsupported.err, /is not a readable WAV file: /);
  assert.equal(unsupported.out, "");
});
