/**
 * The diagnostic answering stage: greets with a tone, then echoes the caller. Every transport can be
 * tested end to end with it before (and independently of) the real pipeline; `TOM_ANSWER=echo`-style
 * diagnostics keep it available afterwards.
 *
 * The greeting is {@linkcode GREETING_TONE}: a sine of known frequency and level, so an end-to-end test can
 * check on the far side (what Asterisk recorded, what the browser heard) that audio came through intact.
 *
 * @module
 */
import { type Answerer, type CallHandler, PIPELINE_RATE } from "./contract.ts";

/** The greeting tone: frequency (Hz), peak amplitude (of 32767), duration (ms). */
export const GREETING_TONE = { hz: 1000, amplitude: 8000, ms: 1000 } as const;

/** A sine tone at {@linkcode PIPELINE_RATE}, with 5 ms fades so it does not click. */
export function tone(hz: number, amplitude: number, ms: number, rate = PIPELINE_RATE): Int16Array {
  const n = Math.round((rate * ms) / 1000);
  const fade = Math.round(rate * 0.005);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const env = Math.min(1, i / fade, (n - 1 - i) / fade);
    out[i] = Math.round(amplitude * env * Math.sin((2 * Math.PI * hz * i) / rate));
  }
  return out;
}

/** Options of {@linkcode echoAnswerer}. */
export interface EchoOptions {
  /** Play the greeting tone first (default true). */
  greeting?: boolean;
}

/** An answerer that plays the greeting tone, then sends every caller frame straight back. */
export function echoAnswerer(opts: EchoOptions = {}): Answerer {
  const greeting = tone(GREETING_TONE.hz, GREETING_TONE.amplitude, GREETING_TONE.ms);
  return (ctx): CallHandler => {
    let greeted = opts.greeting === false;
    return {
      handle(event) {
        switch (event.type) {
          case "start":
            if (!greeted) {
              ctx.output.audio(greeting);
              ctx.output.mark("greeting");
            }
            break;
          case "mark":
            if (event.name === "greeting") greeted = true;
            break;
          case "audio":
            // Echo only after the greeting, so the far side hears the tone clean.
            if (greeted) ctx.output.audio(event.pcm);
            break;
          case "dtmf":
            ctx.log.info("dtmf received", { digit: event.digit });
            if (event.digit === "#") ctx.output.hangup("caller pressed #");
            break;
          case "stop":
            break;
        }
      },
    };
  };
}
