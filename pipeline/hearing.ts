/**
 * The caller's audio on the way in: 20 ms frames re-cut to the VAD's frame size, classified in order
 * (the model keeps state; one inference at a time per call), turned into turn events, and kept in a
 * bounded ring so that an utterance (with its pre-roll) can be handed to STT at its end. A failing VAD
 * falls back to frame energy instead of leaving the call deaf.
 *
 * @module
 */
import { PIPELINE_RATE } from "../gateway/mod.ts";
import type { Vad } from "./engines/types.ts";
import type { PipelineOptions } from "./defaults.ts";
import { energyProbability } from "./energy.ts";
import { TurnDetector } from "./turn_detector.ts";

/** What the caller's audio caused. `arrived` is when the frame that decided it arrived (monotonic ms). */
export type HeardEvent =
  /** `onsetT`: when the first speech frame arrived (monotonic ms, estimated from the deciding frame). */
  | { type: "speech_start"; onsetAt: number; probability: number; arrived: number; onsetT: number }
  | { type: "speech_long"; arrived: number }
  /** `pcm`: the utterance from `preRollMs` before its onset to the end of its silence. */
  | { type: "speech_end"; at: number; lastSpeechAt: number; arrived: number; pcm: Int16Array }
  /** A sound too short to be speech (`minSpeechMs`), ignored. */
  | { type: "noise"; durationMs: number }
  /** A short pause inside the turn (speculation): `pcm` is the utterance so far, as `speech_end` would give it. */
  | { type: "speech_pause"; at: number; lastSpeechAt: number; arrived: number; pcm: Int16Array }
  /** Speech again after a `speech_pause`: the turn goes on. */
  | { type: "speech_resume"; arrived: number }
  /**
   * The caller's speech so far (every `bargeInProbeMs` while speaking), for a barge-in decided on words;
   * `pcm()` copies the audio out, so only a probe that is transcribed (TOM is talking) pays for it.
   */
  | { type: "speech_probe"; arrived: number; pcm: () => Int16Array };

/** Callbacks of {@linkcode CallerAudio}. */
export interface HearingHooks {
  now: () => number;
  onEvent(e: HeardEvent): void;
  /** The VAD failed (once); the energy fallback is used from now on. */
  onVadFailed(e: unknown): void;
}

/** Longest utterance kept for STT (older audio is dropped from the ring). */
export const MAX_UTTERANCE_MS = 30_000;

/** One call's incoming audio. */
export class CallerAudio {
  readonly #o: PipelineOptions;
  readonly #h: HearingHooks;
  readonly #detector: TurnDetector;
  #vad: Vad | null = null;
  #failed = false;
  #closed = false;
  #chain: Promise<void> = Promise.resolve();
  #buf = new Float32Array(512);
  #fill = 0;
  #bufAt = 0;
  #frames: { pcm: Int16Array; atMs: number }[] = [];

  constructor(opts: PipelineOptions, hooks: HearingHooks) {
    this.#o = opts;
    this.#h = hooks;
    this.#detector = new TurnDetector({
      ...opts,
      speculativePauseMs: opts.speculative ? opts.speculativePauseMs : 0,
    });
  }

  /** The silence that ends the turn in progress (from its words' cues); null: the configured one. */
  setEndSilence(ms: number | null): void {
    this.#detector.setEndSilence(ms);
  }

  /** Use this VAD from now on (until then, and after a failure, frame energy decides). */
  attach(vad: Vad): void {
    if (this.#closed) return vad.dispose();
    this.#vad = vad;
    if (this.#buf.length !== vad.frameSamples) {
      this.#buf = new Float32Array(vad.frameSamples);
      this.#fill = 0;
    }
  }

  /** The VAD could not be created or failed. */
  fail(e: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#h.onVadFailed(e);
  }

  /** The next caller frame; `atMs` is the call time of its first sample. */
  push(pcm: Int16Array, atMs: number): void {
    if (this.#closed) return;
    const arrived = this.#h.now();
    this.#frames.push({ pcm, atMs });
    const keepFrom = atMs - MAX_UTTERANCE_MS - this.#o.preRollMs;
    let drop = 0;
    while (drop < this.#frames.length && this.#frames[drop].atMs < keepFrom) drop++;
    if (drop > 64) this.#frames = this.#frames.slice(drop);
    const n = this.#buf.length;
    for (let i = 0; i < pcm.length; i++) {
      if (this.#fill === 0) this.#bufAt = atMs + (i * 1000) / PIPELINE_RATE;
      this.#buf[this.#fill++] = pcm[i] / 32768;
      if (this.#fill === n) {
        const frame = this.#buf.slice();
        const at = this.#bufAt;
        this.#fill = 0;
        this.#chain = this.#chain.then(() => this.#classify(frame, at, arrived)).catch((e) => this.fail(e));
      }
    }
  }

  async #classify(frame: Float32Array, at: number, arrived: number): Promise<void> {
    if (this.#closed) return;
    let p: number;
    const vad = this.#vad;
    if (vad && !this.#failed && frame.length === vad.frameSamples) {
      try {
        p = await vad.process(frame);
      } catch (e) {
        this.fail(e);
        p = energyProbability(frame);
      }
    } else {
      p = energyProbability(frame);
    }
    if (this.#closed) return;
    for (const ev of this.#detector.push(p, at, (frame.length * 1000) / PIPELINE_RATE)) {
      if (ev.type === "speech_start") {
        const onsetT = arrived - (ev.at - ev.onsetAt);
        this.#h.onEvent({ type: "speech_start", onsetAt: ev.onsetAt, probability: p, arrived, onsetT });
      } else if (ev.type === "pause") {
        const pcm = this.#cut(ev.onsetAt, ev.at);
        this.#h.onEvent({ type: "speech_pause", at: ev.at, lastSpeechAt: ev.lastSpeechAt, arrived, pcm });
      } else if (ev.type === "resume") {
        this.#h.onEvent({ type: "speech_resume", arrived });
      } else if (ev.type === "probe") {
        this.#h.onEvent({ type: "speech_probe", arrived, pcm: () => this.#cut(ev.onsetAt, ev.at) });
      } else if (ev.type === "speech_long") {
        this.#h.onEvent({ type: "speech_long", arrived });
      } else if (ev.type === "noise") {
        this.#h.onEvent({ type: "noise", durationMs: ev.durationMs });
      } else {
        const pcm = this.#cut(ev.onsetAt, ev.at);
        this.#h.onEvent({ type: "speech_end", at: ev.at, lastSpeechAt: ev.lastSpeechAt, arrived, pcm });
      }
    }
  }

  /** The kept audio from `preRollMs` before `onsetAt` to `to` (call ms). */
  #cut(onsetAt: number, to: number): Int16Array {
    const from = onsetAt - this.#o.preRollMs;
    const parts = this.#frames.filter((f) => f.atMs >= from && f.atMs < to).map((f) => f.pcm);
    const pcm = new Int16Array(parts.reduce((s, x) => s + x.length, 0));
    let o = 0;
    for (const x of parts) {
      pcm.set(x, o);
      o += x.length;
    }
    return pcm;
  }

  /** Stop; the VAD is disposed once its last inference is done. */
  close(onError: (e: unknown) => void): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#frames = [];
    this.#chain.finally(() => {
      try {
        this.#vad?.dispose();
      } catch (e) {
        onError(e);
      }
    }).catch(() => {});
  }
}
