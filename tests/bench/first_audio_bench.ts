/**
 * First audio sooner (issue 16, item 3), with the real llama-server (synthetic model) and espeak-ng:
 * 1. first audio after the LLM's first token, p50/p95, `clauseStart` on vs off in the same run. The
 *    synthetic model's tokens keep their real timing but carry the words of long German first sentences
 *    (its own text is noise), so the splitter sees what a real model would write at that pace.
 * 2. LLM first-token time with the cache-friendly prompt (the same system prompt every turn) vs a prompt
 *    whose first line changes every turn (the clock with seconds before the facts).
 * Figures are printed, never asserted. Run: `npx --yes deno@2.9.6 run -A tests/bench/first_audio_bench.ts`.
 *
 * @module
 */
import { resolvePipelineOptions } from "../../pipeline/defaults.ts";
import { createLlm } from "../../pipeline/engines/llm.ts";
import type { ChatMessage, ChatOptions, LlmEngine, LlmFrame } from "../../pipeline/engines/types.ts";
import { type ReplyWork, runReply } from "../../pipeline/reply.ts";
import { Trace } from "../../pipeline/trace.ts";
import { fakeContext, FakeOutput } from "../pipeline/_fakes.ts";
import { ENGINES_MISSING, startEngines } from "../e2e/pipeline_engines.ts";

if (ENGINES_MISSING) {
  console.log(`first audio bench skipped: ${ENGINES_MISSING}`);
  Deno.exit(0);
}

const ANSWERS = [
  "Ich habe für Sie im Kalender nachgesehen, am Montag hätte Dr. Weber noch einen Termin frei, gegen neun Uhr.",
  "Das ist leider heute nicht mehr möglich, weil die Praxis ab zwölf Uhr geschlossen ist und erst morgen wieder öffnet.",
  "Ihren Wunsch nach einem neuen Rezept habe ich notiert, das Praxisteam meldet sich morgen Vormittag bei Ihnen.",
  "Bitte bringen Sie zu Ihrem Termin Folgendes mit: Ihre Versichertenkarte, den Überweisungsschein und die Medikamentenliste.",
];

/** Extra ms per token (`BENCH_TOKEN_MS`, e.g. 40 for a real 8B model at 25 tokens/s); 0: the server's pace. */
const TOKEN_MS = Number(Deno.env.get("BENCH_TOKEN_MS") ?? 0);

/** The real server's token stream, each token carrying the next word of `words` (then nothing). */
class PacedWords implements LlmEngine {
  readonly name = "paced";
  constructor(readonly inner: LlmEngine, readonly words: string[]) {}
  async *chat(messages: ChatMessage[], opts: ChatOptions): AsyncIterable<LlmFrame> {
    let i = 0;
    for await (const f of this.inner.chat(messages, { ...opts, maxTokens: this.words.length + 1 })) {
      if (f.type === "token") {
        if (TOKEN_MS > 0) await new Promise((r) => setTimeout(r, TOKEN_MS));
        if (i < this.words.length) yield { type: "token", text: (i > 0 ? " " : "") + this.words[i++] };
      } else yield f;
    }
  }
}

/** The p-th percentile (nearest rank) of the values. */
const percentile = (xs: number[], p: number) =>
  xs.length === 0
    ? NaN
    : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];

const engines = await startEngines();
try {
  const llm = createLlm(engines.config, { extraBody: { ignore_eos: true } }) as LlmEngine;
  const rounds = Number(Deno.env.get("BENCH_ROUNDS") ?? 6);
  const gaps: Record<string, number[]> = { on: [], off: [] };
  for (let r = 0; r < rounds; r++) {
    for (const text of ANSWERS) {
      for (const mode of r % 2 === 0 ? ["on", "off"] : ["off", "on"]) {
        const out = new FakeOutput();
        const ac = new AbortController();
        const trace = new Trace(performance.now(), () => performance.now());
        const w: ReplyWork = {
          turn: 1,
          text: "",
          ac,
          sentences: [],
          queuedMs: 0,
          playedAtClear: null,
          spoken: [],
          trace,
          outcome: { noted: [] },
        };
        await runReply(w, [{ role: "user", content: "Haben Sie einen Termin?" }], {
          ctx: fakeContext(out, ac),
          llm: new PacedWords(llm, text.split(" ")),
          tts: engines.tts,
          options: resolvePipelineOptions({ clauseStart: mode === "on", maxTokens: 64 }),
          now: () => performance.now(),
          isCurrent: () => true,
          onAudible: () => {},
        });
        if (trace.has("first_audio_out") && trace.has("llm_first_token")) {
          gaps[mode].push(trace.get("first_audio_out") - trace.get("llm_first_token"));
        }
      }
    }
  }
  console.log(
    `first audio after the LLM's first token (ms), long first sentences, llama-server + espeak-ng, +${TOKEN_MS} ms/token:`,
  );
  for (const mode of ["off", "on"]) {
    const v = gaps[mode];
    console.log(
      `  clauseStart ${mode.padEnd(3)} n=${v.length} p50 ${percentile(v, 50).toFixed(0)} p95 ${
        percentile(v, 95).toFixed(0)
      }`,
    );
  }

  // 2. Prompt cache: the same long system prompt every turn vs one whose first line changes.
  const facts = Array.from(
    { length: 40 },
    (_, i) =>
      `Fakt ${i + 1}: Die Praxis bietet Leistung ${i + 1} montags bis freitags an, bitte vorher anrufen.`,
  ).join(" ");
  const firstToken = async (system: string, user: string) => {
    const t0 = performance.now();
    const ac = new AbortController();
    for await (
      const f of llm.chat([{ role: "system", content: system }, { role: "user", content: user }], {
        signal: ac.signal,
        maxTokens: 2,
      })
    ) {
      if (f.type === "token" || f.type === "error") {
        ac.abort();
        return f.type === "token" ? performance.now() - t0 : NaN;
      }
    }
    return NaN;
  };
  const ft: Record<string, number[]> = { stable: [], changing: [] };
  for (let i = 0; i < rounds * 2; i++) {
    const user = `Frage ${i}: Haben Sie heute offen?`;
    ft.stable.push(await firstToken(`Du bist Anna. ${facts}`, user));
    ft.changing.push(await firstToken(`Es ist ${new Date().toISOString()}. Du bist Anna. ${facts}`, user));
  }
  console.log("LLM first token (ms), system prompt of about 1,000 tokens:");
  for (const k of ["stable", "changing"]) {
    const v = ft[k].filter((x) => Number.isFinite(x));
    console.log(
      `  prefix ${k.padEnd(8)} n=${v.length} p50 ${percentile(v, 50).toFixed(0)} p95 ${
        percentile(v, 95).toFixed(0)
      }`,
    );
  }
} finally {
  await engines.close();
}
