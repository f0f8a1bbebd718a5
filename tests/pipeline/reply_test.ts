/**
 * The reply path (pipeline/reply.ts): the LLM's tokens, cut into sentences, reach TTS. What the caller
 * hears: "Das geht z. B. am Montag." spoken as one sentence, not as "Das geht z." / "B." / "am Montag.".
 */
import assert from "node:assert/strict";
import { type PipelineOptions, resolvePipelineOptions } from "../../pipeline/defaults.ts";
import type { LlmEngine, LlmFrame } from "../../pipeline/engines/types.ts";
import { type ReplyWork, runReply } from "../../pipeline/reply.ts";
import { Trace } from "../../pipeline/trace.ts";
import { fakeContext, FakeOutput, FakeTts } from "./_fakes.ts";

/** An LLM streaming the given tokens as they are (llama.cpp sends "z", ".", " B", "." as separate tokens). */
class TokenLlm implements LlmEngine {
  readonly name = "token-llm";
  constructor(readonly tokens: string[]) {}
  async *chat(): AsyncIterable<LlmFrame> {
    for (const text of this.tokens) {
      await Promise.resolve();
      yield { type: "token", text };
    }
    yield { type: "done", finishReason: "stop", tokens: this.tokens.length };
  }
}

/** Run one reply with these LLM tokens; returns what TTS was asked to speak. */
async function spoken(tokens: string[], options: Partial<PipelineOptions> = {}): Promise<string[]> {
  const tts = new FakeTts();
  const out = new FakeOutput();
  const ac = new AbortController();
  const w: ReplyWork = {
    turn: 1,
    text: "",
    ac,
    sentences: [],
    queuedMs: 0,
    playedAtClear: null,
    spoken: [],
    trace: new Trace(performance.now(), () => performance.now()),
    outcome: { noted: [] },
  };
  const failure = await runReply(w, [{ role: "user", content: "Wann geht es?" }], {
    ctx: fakeContext(out, ac),
    llm: new TokenLlm(tokens),
    tts,
    options: resolvePipelineOptions(options),
    now: () => performance.now(),
    isCurrent: () => true,
    onAudible: () => {},
  });
  assert.equal(failure, null);
  assert.deepEqual(w.spoken, tts.texts, "every sentence sent to TTS was queued for playback");
  return tts.texts;
}

Deno.test("reply: 'z. B.' in the LLM's answer is spoken within one sentence", async () => {
  const tokens = ["Das", " geht", " z", ".", " B", ".", " am", " Montag", "."];
  assert.deepEqual(await spoken(tokens), ["Das geht z. B. am Montag."]);
});

Deno.test("reply: 'i. d. R.' and a date stay inside their sentence; the next sentence follows", async () => {
  const tokens = [
    "Wir",
    " sind",
    " i",
    ".",
    " d",
    ".",
    " R",
    ".",
    " da",
    ".",
    " Am",
    " 3",
    ".",
    " Mai",
    " auch",
    ".",
  ];
  assert.deepEqual(await spoken(tokens), ["Wir sind i. d. R. da.", "Am 3. Mai auch."]);
});

Deno.test("reply: word-sized tokens with abbreviations give whole sentences, the rest at the end", async () => {
  const tokens = ["Guten ", "Tag. ", "Dr. ", "Weber ", "ist ", "am ", "3. ", "Mai ", "da! ", "Bis ", "bald"];
  assert.deepEqual(await spoken(tokens), ["Guten Tag.", "Dr. Weber ist am 3. Mai da!", "Bis bald"]);
});

Deno.test("reply: with clauseStart the caller hears the first clause of a long first sentence at once", async () => {
  const text =
    "Ich habe für Sie nachgesehen, am Montag hätte Dr. Weber noch einen Termin frei, gegen neun Uhr. " +
    "Soll ich Sie eintragen, oder passt Ihnen ein anderer Tag besser?";
  const tokens = text.split(/(?= )/);
  assert.deepEqual(await spoken(tokens, { clauseStart: true }), [
    "Ich habe für Sie nachgesehen,",
    "am Montag hätte Dr. Weber noch einen Termin frei, gegen neun Uhr.",
    "Soll ich Sie eintragen, oder passt Ihnen ein anderer Tag besser?",
  ]);
  // The baseline: the first audio waits for the full stop.
  assert.deepEqual(await spoken(tokens, { clauseStart: false }), [
    "Ich habe für Sie nachgesehen, am Montag hätte Dr. Weber noch einen Termin frei, gegen neun Uhr.",
    "Soll ich Sie eintragen, oder passt Ihnen ein anderer Tag besser?",
  ]);
});
