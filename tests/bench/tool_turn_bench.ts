/**
 * Added latency per reply turn of the tool-call path with the real engines, before/after in one run: a
 * whole reply through runReply (pipeline/reply.ts) against the real llama-server (synthetic model, with
 * the tool-aware template of tests/pipeline/engines/llama_tools_support.ts, without which llama-server
 * ignores `tools` for this model) and espeak-ng, into a recording transport.
 * - "plain": no tools; "tools offered": the three call tools with tool_choice auto, as a call offers
 *   them. The random model answers text in both, so the difference is what offering tools costs every
 *   turn: the longer prompt (prefix-cached by llama-server after the first turn), the lazy grammar and
 *   the tool-call parser. Same prompt, same maxTokens, temperature 0, order alternating (AB, BA, ...).
 * - "forced call" (extra row, not a like-for-like pair): the tool choice forced and the call opened
 *   (the synthetic model never calls by itself), the enum-only schema makes it a valid note: validated,
 *   stored sealed in the real store, the read-back spoken. First audio there is the read-back's.
 * Reports time to first audio queued, to the LLM's last frame and to the reply's end (p50/p95 side by
 * side, ratio of p50s), the tokens generated, the audio made (the whole reply includes espeak-ng speaking
 * whatever gibberish each prompt gave, so it differs with the text, not the tools), and the prompt tokens
 * with and without tools (llama-server's `usage`).
 *
 *   deno run -A tests/bench/tool_turn_bench.ts [--turns 10] [--max-tokens 40]
 *
 * @module
 */
import { join } from "node:path";
import { percentile } from "../../app/probe/percentiles.ts";
import { resolvePipelineOptions } from "../../pipeline/defaults.ts";
import { createEspeakTts } from "../../pipeline/engines/espeak.ts";
import { wireTools } from "../../pipeline/engines/llm_tools.ts";
import type { ChatMessage, LlmEngine, LlmFrame, ToolSpec } from "../../pipeline/engines/types.ts";
import { type ReplyTools, type ReplyWork, runReply } from "../../pipeline/reply.ts";
import { CALL_TOOLS, toNewRequest } from "../../pipeline/tools.ts";
import { Trace } from "../../pipeline/trace.ts";
import { createAccount, createCall, openStore } from "../../store/mod.ts";
import { createRequest, TranscriptKeyring } from "../../store/crypto/mod.ts";
import { enginesMissing } from "../_engines.ts";
import { espeakMissing } from "../pipeline/engines/tts_support.ts";
import { fakeContext, FakeOutput } from "../pipeline/_fakes.ts";
import { fixedNoteSpec, ForcedToolLlm, startToolLlama } from "../pipeline/engines/llama_tools_support.ts";

const args = Deno.args;
const arg = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const TURNS = arg("turns", 10);
const MAX_TOKENS = arg("max-tokens", 40);
const MSGS: ChatMessage[] = [
  {
    role: "system",
    content: "Du bist TOM, die Telefonassistenz der Praxis Weber. Antworte kurz und freundlich.",
  },
  { role: "user", content: "Guten Tag, ich hätte gerne einen Rückruf wegen meines Rezepts." },
];

if (enginesMissing || espeakMissing) {
  console.log(`skipped: ${enginesMissing ?? espeakMissing}`);
  Deno.exit(0);
}

/** Passes frames through and remembers the tokens the last answer generated. */
class Counting implements LlmEngine {
  readonly name = "counting";
  tokens = 0;
  /** When the last answer's `done` arrived. */
  doneAt = NaN;
  constructor(readonly inner: LlmEngine) {}
  async *chat(m: ChatMessage[], o: Parameters<LlmEngine["chat"]>[1]): AsyncIterable<LlmFrame> {
    for await (const f of this.inner.chat(m, o)) {
      if (f.type === "done") {
        this.tokens += f.tokens ?? 0;
        this.doneAt = performance.now();
      }
      yield f;
    }
  }
}

const server = await startToolLlama();
const dir = await Deno.makeTempDir();
const store = openStore(":memory:");
try {
  const keyring = await TranscriptKeyring.open(join(dir, "transcripts.key"));
  const account = createAccount(store, { name: "Praxis Weber", kind: "clinical" });
  const call = createCall(store, account.id, { direction: "inbound", transport: "browser" });
  const note: ReplyTools["note"] = async (n) =>
    (await createRequest(store, keyring, account.id, toNewRequest(call.id, n))).id;
  const tts = createEspeakTts({ voice: "de" });
  const options = (maxTokens: number) =>
    resolvePipelineOptions({
      maxTokens,
      temperature: 0,
      llmFirstTokenTimeoutMs: 20_000,
      llmTokenGapMs: 20_000,
      ttsTimeoutMs: 20_000,
    });

  /** One reply turn: ms to the first audio queued, to the LLM's end and to the reply's end, and more. */
  const turn = async (llm: LlmEngine, specs: ToolSpec[] | undefined, maxTokens = MAX_TOKENS) => {
    const counting = new Counting(llm);
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
    const t0 = performance.now();
    let first = NaN;
    const failure = await runReply(w, MSGS, {
      ctx: { ...fakeContext(out, ac), callId: call.id, accountId: account.id },
      llm: counting,
      tts,
      options: options(maxTokens),
      now: () => performance.now(),
      isCurrent: () => true,
      onAudible: () => (first = performance.now() - t0),
      ...(specs ? { tools: { specs, note } } : {}),
    });
    if (failure) throw new Error(`reply failed: ${failure.message}`);
    return {
      first,
      llm: counting.doneAt - t0,
      total: performance.now() - t0,
      tokens: counting.tokens,
      audio: w.queuedMs,
      noted: w.outcome.noted.length,
    };
  };

  const variants = {
    plain: () => turn(server.llm, undefined),
    tools: () => turn(server.llm, CALL_TOOLS),
    forced: () =>
      // 90 tokens: one whole call (the grammar lets the model pad it with spaces).
      turn(new ForcedToolLlm(server.llm, "note_request"), [
        fixedNoteSpec({ kind: "callback", callback_number: "0171 2345678", summary: "Bitte um Rückruf" }),
      ], 90),
  };
  type Name = keyof typeof variants;
  const runs: Record<Name, Awaited<ReturnType<typeof turn>>[]> = { plain: [], tools: [], forced: [] };
  for (const n of ["plain", "tools", "forced"] as const) await variants[n](); // warm-up: caches, espeak
  for (let i = 0; i < TURNS; i++) {
    const order: Name[] = i % 2 === 0 ? ["plain", "tools", "forced"] : ["tools", "plain", "forced"];
    for (const n of order) runs[n].push(await variants[n]());
  }
  if (runs.forced.some((r) => r.noted !== 1)) throw new Error("a forced valid call was not stored once");

  const promptTokens = async (tools: boolean) => {
    const res = await fetch(`${server.config.llm.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        messages: MSGS,
        max_tokens: 1,
        ...(tools ? { tools: wireTools(CALL_TOOLS), tool_choice: "auto" } : {}),
      }),
    });
    const body = await res.json() as { usage?: { prompt_tokens?: number } };
    return body.usage?.prompt_tokens ?? NaN;
  };

  const ms = (v: number) => `${v.toFixed(0)} ms`.padStart(8);
  const stat = (n: Name, k: "first" | "llm" | "total", p: number) => percentile(runs[n].map((r) => r[k]), p);
  const mean = (n: Name, k: "tokens" | "noted" | "audio") =>
    runs[n].reduce((s, r) => s + r[k], 0) / runs[n].length;
  console.log(
    `reply turn through runReply, real llama-server (synthetic model) + espeak-ng, ${TURNS} turns per variant, ` +
      `maxTokens ${MAX_TOKENS}, alternating order`,
  );
  console.log(
    `${"".padEnd(26)}${"plain p50".padStart(10)}${"p95".padStart(9)} | ${"tools p50".padStart(9)}${
      "p95".padStart(9)
    } | p50 ratio`,
  );
  const rows = [["first", "first audio queued"], ["llm", "LLM answer complete"], [
    "total",
    "whole reply",
  ]] as const;
  for (const [k, label] of rows) {
    console.log(
      `${label.padEnd(26)}${ms(stat("plain", k, 50)).padStart(10)}${ms(stat("plain", k, 95)).padStart(9)} | ${
        ms(stat("tools", k, 50))
      }${ms(stat("tools", k, 95)).padStart(9)} | ${(stat("tools", k, 50) / stat("plain", k, 50)).toFixed(2)}`,
    );
  }
  console.log(
    `tokens generated per turn: plain ${mean("plain", "tokens")}, tools ${mean("tools", "tokens")}`,
  );
  // The whole reply includes espeak-ng speaking different gibberish: compare it with the audio made.
  console.log(
    `audio queued per turn: plain ${ms(mean("plain", "audio")).trim()}, tools ${
      ms(mean("tools", "audio")).trim()
    }`,
  );
  console.log(`prompt tokens: plain ${await promptTokens(false)}, tools offered ${await promptTokens(true)}`);
  console.log(
    `forced call (validated, stored, read back): first audio p50 ${ms(stat("forced", "first", 50))} p95 ${
      ms(stat("forced", "first", 95))
    }, whole reply p50 ${ms(stat("forced", "total", 50))} p95 ${
      ms(stat("forced", "total", 95))
    }, notes stored per turn ${mean("forced", "noted")}`,
  );
} finally {
  store.close();
  await server.stop();
  await Deno.remove(dir, { recursive: true });
}
