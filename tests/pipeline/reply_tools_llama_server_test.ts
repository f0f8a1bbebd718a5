/**
 * A reply's tool calls (pipeline/reply.ts runReply) with real engines: the real llama-server (synthetic
 * random-weight model, started as in engines/llama_tools_support.ts), the real espeak-ng, the real
 * store with its keyring (requests sealed by createRequest). What is real and what is not:
 * - Real: the server's tool grammar and its streamed tool calls, the adapter, validation (tools.ts),
 *   the store, espeak-ng's audio, the events runReply emits.
 * - Forced: the tool choice and the opening `<tool_call>` (ForcedToolLlm). A test needs that because the
 *   synthetic model answers gibberish and never calls a tool by itself.
 * - Narrowed, in two steps: the offered schema (enum-only fields), so the grammar makes the model write
 *   one fixed call, either valid (accepted path) or with a number that is not one (refused path).
 *   Validation still runs on what the server sent; only the first step offers the real schema, and its
 *   outcome is whatever the model wrote (gibberish summaries are often accepted as `other`), asserted
 *   either way.
 * The transport is the recording FakeOutput (audio queued, events); the store part is _reply_tools.ts.
 */
import assert from "node:assert/strict";
import { skipWithoutEngines } from "../_engines.ts";
import { skipWithoutEspeak } from "./engines/tts_support.ts";
import { createEspeakTts } from "../../pipeline/engines/espeak.ts";
import type { ChatMessage, ToolSpec } from "../../pipeline/engines/types.ts";
import { MAX_REFUSALS } from "../../pipeline/reply.ts";
import { ASK_AGAIN, readBack } from "../../pipeline/read_back.ts";
import { CALL_TOOLS } from "../../pipeline/tools.ts";
import { runToolReply } from "./_reply_tools.ts";
import {
  fixedNoteSpec,
  ForcedToolLlm,
  startToolLlama,
  type ToolLlama,
} from "./engines/llama_tools_support.ts";

const MSGS: ChatMessage[] = [
  { role: "system", content: "Du bist TOM, die Telefonassistenz der Praxis." },
  { role: "user", content: "Bitte rufen Sie mich zurück, 0171 2345678." },
];
const NOTE_SPEC = CALL_TOOLS.find((t) => t.name === "note_request") as ToolSpec;
/** German reasons validation gives. */
const GERMAN_REASON =
  /^(Ungültige Angaben|Für einen Rückruf|Feld „callback_number“|Die Argumente|Zu viele Werkzeugaufrufe)/;

/** One reply against the real server (the tool forced), espeak-ng and a fresh store. */
async function reply(server: ToolLlama, specs: ToolSpec[], maxTokens = 400) {
  const llm = new ForcedToolLlm(server.llm, "note_request");
  const tts = createEspeakTts({ voice: "de" });
  // 400: room for a whole call (the grammar allows 300-character summaries).
  return { llm, ...(await runToolReply({ messages: MSGS, llm, tts, specs, maxTokens })) };
}

/** The answers the model was told in request `i` (its `tool` messages). */
function toldInRequest(llm: ForcedToolLlm, i: number): string[] {
  return (llm.requests[i] ?? []).flatMap((m) => (m.role === "tool" ? [m.content] : []));
}

Deno.test({
  name: "real llama-server + espeak-ng + store: a reply's forced tool call is validated, stored or refused",
  ignore: skipWithoutEngines || skipWithoutEspeak,
  sanitizeOps: false,
  sanitizeResources: false,
}, async (t) => {
  const server = await startToolLlama();
  try {
    await t.step(
      "the real schema: the model's gibberish call, accepted or refused, is handled honestly",
      async () => {
        const r = await reply(server, [NOTE_SPEC]);
        assert.equal(r.failure, null);
        assert.ok(r.calls.length >= 1, "the server sent a real tool call");
        const accepted = r.calls.filter((c) => c.accepted);
        const refused = r.calls.filter((c) => !c.accepted);
        console.log(
          `real schema: ${r.llm.requests.length} request(s), ${accepted.length} accepted, ${refused.length} refused` +
            `${refused.length ? ` (${refused[0].reason})` : ""}; stored ${r.stored.length}; said: ${
              r.says.map((s) => s.text.slice(0, 60)).join(" | ")
            }`,
        );
        // Only accepted notes reach the store (a repeated identical note once), each read back by espeak-ng.
        assert.equal(r.stored.length, r.w.outcome.noted.length);
        assert.ok(r.stored.length <= accepted.length);
        if (accepted.length > 0) assert.ok(r.stored.length >= 1);
        for (const note of r.w.outcome.noted) {
          assert.ok(r.stored.some((s) => s.summary === note.summary && s.kind === note.kind));
          assert.ok(r.spoken(readBack(note)), `read-back spoken: ${readBack(note)}`);
        }
        for (const c of refused) assert.match(c.reason ?? "", GERMAN_REASON);
        if (refused.length > 0 && !r.w.outcome.needsNumber) {
          assert.ok(r.llm.requests.length >= 2, "the model was asked again");
          assert.ok(toldInRequest(r.llm, 1).includes(refused[0].reason as string), "and told why");
        }
        if (r.says.some((s) => s.text === ASK_AGAIN)) assert.ok(r.spoken(ASK_AGAIN));
        assert.ok(r.audioSamples > 0);
      },
    );

    await t.step("a call the grammar makes valid: one request stored, the read-back spoken", async () => {
      const r = await reply(server, [
        fixedNoteSpec({ kind: "callback", callback_number: "0171 2345678", summary: "Bitte um Rückruf" }),
      ]);
      assert.equal(r.failure, null);
      assert.ok(r.calls.length >= 1);
      assert.ok(r.calls.every((c) => c.name === "note_request" && c.accepted), JSON.stringify(r.calls));
      assert.equal(r.llm.requests.length, 1, "nothing refused: no second request");
      assert.equal(r.stored.length, 1);
      assert.deepEqual(
        [r.stored[0].kind, r.stored[0].callbackNumber, r.stored[0].summary, r.stored[0].source],
        ["callback", "+491712345678", "Bitte um Rückruf", "call"],
      );
      const phrase = "Ich habe notiert: Rückruf unter 0171 234 56 78. Das Praxisteam meldet sich.";
      assert.equal(readBack(r.w.outcome.noted[0]), phrase);
      assert.ok(r.spoken(phrase), JSON.stringify(r.says));
      assert.ok(r.audioSamples > 16_000, "over a second of espeak-ng audio queued");
    });

    await t.step(
      "a call the grammar makes invalid: refused, the model told, nothing stored, TOM asks",
      async () => {
        // The random model chains calls until its token limit (a reply handles at most MAX_TOOL_CALLS):
        // 90 tokens hold one whole fixed call (the grammar lets it pad with spaces) and at most the start
        // of a second, refused as no JSON; so the model is asked again, up to MAX_REFUSALS times.
        const r = await reply(server, [
          fixedNoteSpec({ kind: "message", callback_number: "keine", summary: "Bitte um Rückruf" }),
        ], 90);
        assert.equal(r.failure, null);
        assert.ok(r.calls.length >= 2);
        assert.match(r.calls[0].reason ?? "", /^Feld „callback_number“: /);
        for (const c of r.calls) {
          assert.equal(c.accepted, false);
          assert.match(c.reason ?? "", GERMAN_REASON);
        }
        assert.equal(r.stored.length, 0, "a refused call never reaches the store");
        assert.deepEqual(r.w.outcome.noted, []);
        assert.ok(r.llm.requests.length >= 2 && r.llm.requests.length <= MAX_REFUSALS + 1);
        const second = r.llm.requests[1];
        assert.ok(second.some((m) => m.role === "assistant" && (m.toolCalls?.length ?? 0) > 0), "its call");
        assert.ok(
          toldInRequest(r.llm, 1).includes(r.calls[0].reason as string),
          "the reason, as a tool message",
        );
        assert.deepEqual(r.says.map((s) => s.text), [ASK_AGAIN]);
        assert.ok(r.spoken(ASK_AGAIN));
        assert.equal(r.w.spoken.at(-1), ASK_AGAIN);
      },
    );
  } finally {
    await server.stop();
  }
});
