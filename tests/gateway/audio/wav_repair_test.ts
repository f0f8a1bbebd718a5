// repairWavFile: a recording whose writer was killed (placeholder sizes, maybe a torn last frame) gets the
// sizes it really has, keeps its modification time, and plays in any player; other files are not touched.
import assert from "node:assert/strict";
import { join } from "node:path";
import { readWav, repairWavFile, wavHeader, WavReadError } from "../../../gateway/audio/wav.ts";

async function withDir(fn: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tom-wav-repair-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const sizes = (file: string) => {
  const b = Deno.readFileSync(file);
  const v = new DataView(b.buffer);
  return { riff: v.getUint32(4, true), data: v.getUint32(40, true), length: b.length };
};

Deno.test("a recording left open by a killed writer gets its real sizes; a torn last frame is dropped", async () => {
  await withDir((dir) => {
    const file = join(dir, "call.wav");
    // What SIGKILL leaves: the streaming header, samples, and half a stereo frame from a cut write.
    const samples = new Int16Array([1, -1, 2, -2, 3, -3]);
    const body = new Uint8Array(samples.buffer); // little-endian, like WAV (x86, ARM)
    Deno.writeFileSync(file, new Uint8Array([...wavHeader(16_000, 2), ...body, 7, 7]));
    const mtime = new Date(1_700_000_000_000);
    Deno.utimeSync(file, mtime, mtime);
    assert.equal(sizes(file).data, 0xffff_ffff, "precondition: placeholder sizes");

    assert.deepEqual(repairWavFile(file), { repaired: true, dataBytes: 12 });
    assert.deepEqual(sizes(file), { riff: 36 + 12, data: 12, length: 44 + 12 });
    assert.equal(Deno.statSync(file).mtime?.getTime(), mtime.getTime(), "modification time kept");
    const audio = readWav(Deno.readFileSync(file));
    assert.deepEqual([...audio.channels[0]], [1, 2, 3]);
    assert.deepEqual([...audio.channels[1]], [-1, -2, -3]);

    assert.deepEqual(repairWavFile(file), { repaired: false, dataBytes: 12 }, "a good file is left alone");
  });
});

Deno.test("repairWavFile refuses a file without TOM's canonical header and leaves it as it was", async () => {
  await withDir((dir) => {
    const file = join(dir, "other.wav");
    const bytes = new TextEncoder().encode(
      "not a wave file at all, but long enough to have 44 bytes of header",
    );
    Deno.writeFileSync(file, bytes);
    assert.throws(() => repairWavFile(file), WavReadError);
    assert.deepEqual(Deno.readFileSync(file), bytes);
  });
});
