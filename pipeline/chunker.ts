/**
 * Cuts the LLM's token stream into speakable pieces for TTS as soon as a sentence is complete (a minimal
 * splitter owned by the pipeline core; the TTS engineer's `sentences.ts` can replace it behind the same
 * two methods).
 *
 * @module
 */

/** Abbreviations after which a period does not end a sentence (German, common on the phone). */
const ABBREV = /(?:\b(?:Dr|Hr|Fr|Nr|Str|bzw|ca|evtl|usw|z\.B|u\.a|d\.h|Prof|Tel|inkl|ggf)|\b\d{1,2})\.$/i;

/** Incremental sentence chunker. */
export class SentenceChunker {
  #buf = "";
  readonly #maxChars: number;

  /** @param maxChars cut at a comma or space past this length (long sentences would delay the audio) */
  constructor(maxChars = 160) {
    this.#maxChars = maxChars;
  }

  /** Add text; returns the sentences it completed. */
  push(text: string): string[] {
    this.#buf += text;
    const out: string[] = [];
    for (;;) {
      const m = /[.!?…]+["»“]?(\s+|$)/g;
      let cut = -1;
      let hit: RegExpExecArray | null;
      while ((hit = m.exec(this.#buf)) !== null) {
        if (hit[1] === "") break; // at the very end: wait for the next token (could be "3.5" or "Dr.")
        const before = this.#buf.slice(0, hit.index + hit[0].trimEnd().length);
        if (ABBREV.test(before)) continue;
        cut = hit.index + hit[0].length;
        break;
      }
      if (cut < 0 && this.#buf.length > this.#maxChars) {
        const comma = this.#buf.lastIndexOf(", ", this.#maxChars);
        const space = this.#buf.lastIndexOf(" ", this.#maxChars);
        cut = comma > 20 ? comma + 2 : space > 20 ? space + 1 : this.#maxChars;
      }
      if (cut < 0) break;
      const s = this.#buf.slice(0, cut).trim();
      this.#buf = this.#buf.slice(cut);
      if (s !== "") out.push(s);
    }
    return out;
  }

  /** The rest at the end of the stream (may be empty). */
  flush(): string[] {
    const s = this.#buf.trim();
    this.#buf = "";
    return s === "" ? [] : [s];
  }
}
