/**
 * TOM's own phrases, synthesized once per answerer and kept as 16 kHz PCM, so the apology plays even
 * while the TTS engine is down and the greeting starts without synthesis latency.
 *
 * @module
 */
import { PIPELINE_RATE } from "../gateway/mod.ts";
import { createResampler, loadResampler } from "../gateway/audio/mod.ts";
import type { TtsEngine } from "./engines/types.ts";
import { guarded } from "./engines/deadline.ts";
import { type PhraseName, PHRASES } from "./texts.ts";

/** Synthesize `text` completely at {@linkcode PIPELINE_RATE}; null on failure or timeout. */
export async function synthesizeAll(
  tts: TtsEngine,
  text: string,
  signal: AbortSignal,
  timeoutMs = 10_000,
): Promise<Int16Array | null> {
  if (tts.sampleRate !== PIPELINE_RATE) await loadResampler();
  const rs = createResampler(tts.sampleRate, PIPELINE_RATE);
  const ac = new AbortController();
  const onAbort = () => ac.abort();
  signal.addEventListener("abort", onAbort, { once: true });
  const parts: Int16Array[] = [];
  try {
    const frames = guarded("tts", () => tts.synthesize(text, { signal: ac.signal }), {
      signal: ac.signal,
      abort: (r) => ac.abort(r),
      firstMs: timeoutMs,
      gapMs: timeoutMs,
    });
    for await (const f of frames) {
      if (f.type === "error") return null;
      if (f.type === "audio") parts.push(rs.process(f.pcm).slice());
    }
    if (ac.signal.aborted) return null;
    parts.push(rs.flush().slice());
  } finally {
    signal.removeEventListener("abort", onAbort);
    rs.dispose();
  }
  return concat(parts);
}

/** Join PCM chunks. */
export function concat(parts: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Most free texts kept by {@linkcode PhraseCache.loadText}. */
export const MAX_TEXTS = 32;

/** The cache of synthesized phrases. */
export class PhraseCache {
  readonly #pcm = new Map<PhraseName, Int16Array>();
  readonly #texts = new Map<string, Int16Array>();
  readonly #tts: TtsEngine;
  #warming: Promise<void> | undefined;

  constructor(tts: TtsEngine) {
    this.#tts = tts;
  }

  /** Synthesize every phrase not cached yet (idempotent while running; failures are retried later). */
  warm(signal: AbortSignal = new AbortController().signal): Promise<void> {
    this.#warming ??= (async () => {
      for (const name of Object.keys(PHRASES) as PhraseName[]) {
        if (!this.#pcm.has(name)) await this.load(name, signal);
      }
    })().finally(() => (this.#warming = undefined));
    return this.#warming;
  }

  /** The phrase's audio if cached. */
  get(name: PhraseName): Int16Array | undefined {
    return this.#pcm.get(name);
  }

  /** The phrase's audio, synthesized now if needed; null when TTS cannot make it. */
  async load(name: PhraseName, signal: AbortSignal): Promise<Int16Array | null> {
    const have = this.#pcm.get(name);
    if (have) return have;
    const pcm = await synthesizeAll(this.#tts, PHRASES[name], signal).catch(() => null);
    if (pcm && pcm.length > 0) this.#pcm.set(name, pcm);
    return pcm;
  }

  /** Audio of a free text (a policy variant's greeting) if cached. */
  getText(text: string): Int16Array | undefined {
    return this.#texts.get(text);
  }

  /**
   * Audio of a free text, synthesized now if needed (at most {@linkcode MAX_TEXTS} texts are kept: the
   * variants' greetings, not arbitrary answers); null when TTS cannot make it.
   */
  async loadText(text: string, signal: AbortSignal): Promise<Int16Array | null> {
    const have = this.#texts.get(text);
    if (have) return have;
    const pcm = await synthesizeAll(this.#tts, text, signal).catch(() => null);
    if (pcm && pcm.length > 0) {
      if (this.#texts.size >= MAX_TEXTS) this.#texts.delete(this.#texts.keys().next().value as string);
      this.#texts.set(text, pcm);
    }
    return pcm;
  }

  /** Synthesize free texts ahead of the calls that need them (e.g. every variant's greeting). */
  async warmTexts(
    texts: Iterable<string>,
    signal: AbortSignal = new AbortController().signal,
  ): Promise<void> {
    for (const t of new Set(texts)) if (!this.#texts.has(t)) await this.loadText(t, signal);
  }

  /** Put audio in directly (tests, pre-rendered files). */
  set(name: PhraseName, pcm: Int16Array): void {
    this.#pcm.set(name, pcm);
  }
}
