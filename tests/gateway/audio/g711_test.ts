import assert from "node:assert/strict";
import {
  ALAW_SILENCE,
  decodeAlaw,
  decodeMulaw,
  encodeAlaw,
  encodeMulaw,
  MULAW_SILENCE,
} from "../../../gateway/audio/g711.ts";
import { bytesToInt16, int16ToBytes } from "../../../gateway/audio/pcm.ts";

const SOX = "/usr/bin/sox";
const soxMissing = !(await Deno.stat(SOX).then((s) => s.isFile, () => false));
if (soxMissing && Deno.env.get("CI") === "true") {
  throw new Error(`Cannot run the G.711 reference tests in CI: ${SOX} is missing (apt-get install -y sox)`);
}
const soxReason = soxMissing ? ` (skipped: ${SOX} is missing; apt-get install -y sox)` : "";

/** Run sox on raw bytes; `-D` turns off the dither sox adds by default when it lowers precision. */
async function sox(input: Uint8Array, inArgs: string[], outArgs: string[]): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir({ prefix: "tom_g711_" });
  try {
    await Deno.writeFile(`${dir}/in.raw`, input);
    const out = await new Deno.Command(SOX, {
      args: [
        "-D",
        "-t",
        "raw",
        "-r",
        "8000",
        "-c",
        "1",
        ...inArgs,
        `${dir}/in.raw`,
        "-t",
        "raw",
        ...outArgs,
        `${dir}/out.raw`,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    return await Deno.readFile(`${dir}/out.raw`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Every 16-bit value once, -32768 .. 32767. */
const ALL = new Int16Array(65536).map((_, i) => i - 32768);
const CODES = new Uint8Array(256).map((_, i) => i);

function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): string {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `index ${i}: ours ${a[i]}, sox ${b[i]}`;
  }
  return "none";
}

for (
  const [name, encode, encoding] of [["mu-law", encodeMulaw, "mu-law"], [
    "A-law",
    encodeAlaw,
    "a-law",
  ]] as const
) {
  Deno.test({
    name: `${name}: every 16-bit input encodes to the same byte as sox${soxReason}`,
    ignore: soxMissing,
    fn: async () => {
      const ref = await sox(int16ToBytes(ALL), ["-e", "signed", "-b", "16"], ["-e", encoding]);
      const ours = encode(ALL);
      assert.equal(ref.length, 65536);
      assert.ok(ours.every((b, i) => b === ref[i]), `first difference at ${firstDiff(ours, ref)}`);
    },
  });
}

for (
  const [name, decode, encoding] of [["mu-law", decodeMulaw, "mu-law"], [
    "A-law",
    decodeAlaw,
    "a-law",
  ]] as const
) {
  Deno.test({
    name: `${name}: all 256 codes decode to the same sample as sox${soxReason}`,
    ignore: soxMissing,
    fn: async () => {
      const ref = bytesToInt16(await sox(CODES, ["-e", encoding], ["-e", "signed", "-b", "16"]));
      const ours = decode(CODES);
      assert.deepEqual(Array.from(ours), Array.from(ref), `first difference at ${firstDiff(ours, ref)}`);
    },
  });
}

Deno.test("G.711 silence bytes decode to zero-ish and zero encodes to silence", () => {
  assert.equal(encodeMulaw(new Int16Array([0]))[0], MULAW_SILENCE);
  assert.equal(encodeAlaw(new Int16Array([0]))[0], ALAW_SILENCE);
  assert.equal(decodeMulaw(new Uint8Array([MULAW_SILENCE]))[0], 0);
  assert.equal(decodeAlaw(new Uint8Array([ALAW_SILENCE]))[0], 8);
});

Deno.test("G.711 decode then encode returns every code (mu-law 0x7f and 0xff both mean zero)", () => {
  const mu = encodeMulaw(decodeMulaw(CODES));
  for (let c = 0; c < 256; c++) assert.equal(mu[c], c === 0x7f ? 0xff : c, `mu-law code ${c}`);
  assert.deepEqual(encodeAlaw(decodeAlaw(CODES)), CODES);
});

Deno.test("G.711 round trip error stays within the quantization step of the sample's segment", () => {
  for (const [encode, decode] of [[encodeMulaw, decodeMulaw], [encodeAlaw, decodeAlaw]] as const) {
    const back = decode(encode(ALL));
    for (let i = 0; i < ALL.length; i++) {
      const s = ALL[i];
      const err = Math.abs(back[i] - s);
      // The step doubles per segment (16 steps each): about |s| / 16, at least 8 near zero. Clipped
      // extremes (mu-law above 32635) stay inside that bound too.
      const bound = Math.max(8, Math.abs(s) / 16 + 16);
      assert.ok(err <= bound, `sample ${s} came back as ${back[i]}`);
    }
  }
});
