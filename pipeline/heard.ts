/**
 * What the caller heard of an interrupted answer: the sentences played in full plus the words of the
 * sentence in progress in proportion to its played audio. Playback position = audio queued for the
 * reply minus what the transport still holds (`output.queuedMs`) at the moment of the barge-in.
 *
 * @module
 */

/** One sentence of a reply as it was queued. */
export interface QueuedSentence {
  text: string;
  /** Duration of its audio, ms. */
  ms: number;
}

/**
 * The text the caller heard.
 *
 * @param sentences the reply's sentences in order, as queued
 * @param playedMs how much of the reply's audio was played
 * @returns full sentences played, then the played share of the next one's words (rounded down)
 */
export function heardText(sentences: readonly QueuedSentence[], playedMs: number): string {
  const out: string[] = [];
  let left = Math.max(0, playedMs);
  for (const s of sentences) {
    if (left >= s.ms) {
      out.push(s.text);
      left -= s.ms;
      continue;
    }
    const words = s.text.split(/\s+/).filter((w) => w !== "");
    const n = s.ms > 0 ? Math.floor((words.length * left) / s.ms) : 0;
    if (n > 0) out.push(words.slice(0, n).join(" ") + " …");
    break;
  }
  return out.join(" ");
}
