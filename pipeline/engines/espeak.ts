/**
 * espeak-ng behind the {@linkcode TtsEngine} interface: one short-lived process per sentence
 * (`espeak-ng -v de -b 1 --stdout`, text on stdin, WAV on stdout). espeak-ng starts in a few
 * milliseconds and streams as it speaks, so the first chunk is yielded as soon as it arrives; aborting
 * kills the process.
 *
 * @example
 * ```ts
 * import { createEspeakTts } from "./espeak.ts";
 *
 * const tts = createEspeakTts({ voice: "de" });
 * for await (const frame of tts.synthesize("Guten Tag.", { signal: AbortSignal.timeout(5000) })) {
 *   if (frame.type === "audio") console.log(frame.pcm.length, "samples at", tts.sampleRate);
 * }
 * ```
 *
 * @module
 */
import type { TtsEngine, TtsFrame } from "./types.ts";
import { parseWavHeader, S16Assembler, ttsError, type WavFormat } from "./tts_pcm.ts";

/** espeak-ng's output rate for its own voices (mbrola voices differ: pass `sampleRate`). */
export const ESPEAK_SAMPLE_RATE = 22050;

/** Options of {@linkcode createEspeakTts}. */
export interface EspeakOptions {
  /** The espeak-ng binary (default `espeak-ng` on PATH). */
  bin?: string;
  /** Voice (default `de`). */
  voice?: string;
  /** Words per minute (espeak-ng default 175). */
  speed?: number;
  /** Pitch 0-99 (espeak-ng default 50). */
  pitch?: number;
  /** Expected output rate (default 22050); a stream with another rate is an error frame. */
  sampleRate?: number;
}

const encoder = new TextEncoder();

/**
 * An espeak-ng text-to-speech engine.
 *
 * @param options binary, voice, speed and pitch
 * @returns the engine; it holds no process between sentences
 * @throws {RangeError} on a speed or pitch out of range
 */
export function createEspeakTts(options: EspeakOptions = {}): TtsEngine {
  const { bin = "espeak-ng", voice = "de", sampleRate = ESPEAK_SAMPLE_RATE } = options;
  const args = ["-v", voice, "-b", "1", "--stdout"];
  if (options.speed !== undefined) {
    if (!(options.speed >= 80 && options.speed <= 500)) {
      throw new RangeError(`Cannot use espeak-ng speed ${options.speed}: need 80 to 500 words per minute`);
    }
    args.push("-s", String(Math.round(options.speed)));
  }
  if (options.pitch !== undefined) {
    if (!(options.pitch >= 0 && options.pitch <= 99)) {
      throw new RangeError(`Cannot use espeak-ng pitch ${options.pitch}: need 0 to 99`);
    }
    args.push("-p", String(Math.round(options.pitch)));
  }
  return {
    name: `espeak-ng:${voice}`,
    sampleRate,
    synthesize: (text, opts) => synthesize(bin, args, sampleRate, text, opts.signal),
  };
}

async function* synthesize(
  bin: string,
  args: string[],
  sampleRate: number,
  text: string,
  signal: AbortSignal,
): AsyncGenerator<TtsFrame> {
  if (signal.aborted) return;
  const clean = text.replace(/\s+/g, " ").trim();
  if (clean === "") {
    yield { type: "done" };
    return;
  }
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(bin, { args, stdin: "piped", stdout: "piped", stderr: "piped" }).spawn();
  } catch (e) {
    const missing = e instanceof Deno.errors.NotFound;
    yield {
      type: "error",
      error: ttsError(missing ? "unavailable" : "crashed", `Cannot start ${bin}: ${String(e)}`, !missing),
    };
    return;
  }
  let exited = false;
  const kill = () => {
    if (exited) return;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  };
  signal.addEventListener("abort", kill, { once: true });
  const stderr = new Response(child.stderr).text().catch(() => "");
  const reader = child.stdout.getReader();
  try {
    const writer = child.stdin.getWriter();
    await writer.write(encoder.encode(clean + "\n")).then(() => writer.close()).catch(() => {});
    const asm = new S16Assembler();
    let head = new Uint8Array(0);
    let format: WavFormat | undefined;
    for (;;) {
      const { value, done } = await reader.read();
      if (done || signal.aborted) break;
      let body = value;
      if (format === undefined) {
        const joined = new Uint8Array(head.length + value.length);
        joined.set(head);
        joined.set(value, head.length);
        try {
          format = parseWavHeader(joined);
        } catch (e) {
          yield { type: "error", error: ttsError("bad_response", `${bin}: ${(e as Error).message}`, false) };
          return;
        }
        if (format === undefined) {
          head = joined;
          continue;
        }
        if (format.sampleRate !== sampleRate || format.channels !== 1 || format.bitsPerSample !== 16) {
          const got = `${format.sampleRate} Hz, ${format.channels} channel(s), ${format.bitsPerSample} bit`;
          const message = `${bin} produced ${got}: expected ${sampleRate} Hz mono 16 bit`;
          yield { type: "error", error: ttsError("bad_response", message, false) };
          return;
        }
        body = joined.subarray(format.headerBytes);
      }
      const pcm = asm.push(body);
      if (pcm.length > 0) yield { type: "audio", pcm };
    }
    const status = await child.status;
    exited = true;
    if (signal.aborted) return;
    if (!status.success) {
      const why = (await stderr).trim().slice(0, 300);
      const message = `${bin} exited with code ${status.code}${status.signal ? ` (${status.signal})` : ""}` +
        (why ? `: ${why}` : "");
      yield { type: "error", error: ttsError("crashed", message, true) };
      return;
    }
    if (format === undefined) {
      yield { type: "error", error: ttsError("bad_response", `${bin} wrote no WAV header`, true) };
      return;
    }
    yield { type: "done" };
  } finally {
    signal.removeEventListener("abort", kill);
    kill();
    await reader.cancel().catch(() => {});
    await child.status.catch(() => {});
    exited = true;
    await stderr;
  }
}
