/**
 * A test caller speaking: 16 kHz PCM sent as 20 ms frames at real time, then silence (a phone line never
 * goes quiet), through whatever `send` puts a frame on the wire (browser protocol, AudioSocket, ...).
 *
 * @module
 */
import { PIPELINE_FRAME_SAMPLES } from "../../gateway/call/contract.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Send `pcm` (16 kHz) frame by frame at real time, followed by `silenceMs` of silence. */
export async function speak(
  send: (frame: Int16Array) => unknown,
  pcm: Int16Array,
  silenceMs: number,
): Promise<void> {
  const all = new Int16Array(pcm.length + silenceMs * 16);
  all.set(pcm);
  const t0 = performance.now();
  for (let i = 0, k = 0; i < all.length; i += PIPELINE_FRAME_SAMPLES, k++) {
    const frame = new Int16Array(PIPELINE_FRAME_SAMPLES);
    frame.set(all.subarray(i, i + PIPELINE_FRAME_SAMPLES));
    await send(frame);
    const wait = t0 + (k + 1) * 20 - performance.now();
    if (wait > 0) await sleep(wait);
  }
}
