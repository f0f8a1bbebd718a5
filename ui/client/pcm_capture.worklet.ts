// AudioWorklet: microphone at the context's rate (48 kHz) -> low-pass FIR -> 16 kHz PCM16LE frames of
// 20 ms (320 samples), posted to the page with the frame's RMS level. Runs in the audio thread.

declare class AudioWorkletProcessor {
  readonly port: MessagePort;
}
declare function registerProcessor(name: string, ctor: unknown): void;
declare const sampleRate: number;

const OUT_RATE = 16_000;
const FRAME = 320;
const TAPS = 47;

/** Windowed-sinc low-pass (Blackman), cutoff just under the output Nyquist frequency. */
function lowPass(inRate: number): Float32Array {
  const fc = (0.45 * OUT_RATE) / inRate;
  const h = new Float32Array(TAPS);
  const m = TAPS - 1;
  let sum = 0;
  for (let i = 0; i < TAPS; i++) {
    const x = i - m / 2;
    const sinc = x === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * x) / (Math.PI * x);
    const w = 0.42 - 0.5 * Math.cos((2 * Math.PI * i) / m) + 0.08 * Math.cos((4 * Math.PI * i) / m);
    h[i] = sinc * w;
    sum += h[i];
  }
  for (let i = 0; i < TAPS; i++) h[i] /= sum;
  return h;
}

class PcmCapture extends AudioWorkletProcessor {
  #h = lowPass(sampleRate);
  #hist = new Float32Array(TAPS);
  #pos = 0;
  #step = sampleRate / OUT_RATE;
  #t = 0;
  #prev = 0;
  #n = 0;
  #frame = new Int16Array(FRAME);
  #fill = 0;
  #sq = 0;

  process(inputs: Float32Array[][]): boolean {
    const input = inputs[0]?.[0];
    if (!input) return true;
    for (let k = 0; k < input.length; k++) {
      this.#hist[this.#pos] = input[k];
      this.#pos = (this.#pos + 1) % TAPS;
      let y = 0;
      for (let j = 0; j < TAPS; j++) y += this.#h[j] * this.#hist[(this.#pos + j) % TAPS];
      // Fractional resampling on the filtered signal (exact decimation by 3 at 48 kHz).
      while (this.#t <= this.#n) {
        const frac = this.#t - (this.#n - 1);
        this.#emit(this.#prev + (y - this.#prev) * Math.min(1, Math.max(0, frac)));
        this.#t += this.#step;
      }
      this.#prev = y;
      this.#n++;
    }
    return true;
  }

  #emit(v: number): void {
    const s = Math.max(-1, Math.min(1, v));
    this.#frame[this.#fill++] = s < 0 ? s * 0x8000 : s * 0x7fff;
    this.#sq += s * s;
    if (this.#fill === FRAME) {
      const out = this.#frame;
      this.port.postMessage({ pcm: out.buffer, level: Math.sqrt(this.#sq / FRAME) }, [out.buffer]);
      this.#frame = new Int16Array(FRAME);
      this.#fill = 0;
      this.#sq = 0;
    }
  }
}

registerProcessor("pcm-capture", PcmCapture);
export {};
