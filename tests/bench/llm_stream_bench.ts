/**
 * The cost of the streaming loop both LLM adapters share (pipeline/engines/llm_stream.ts), this tree beside
 * a baseline tree in the same run (default d2e511b: the commit before the reasoning-trace filter). One turn:
 * a 40-delta spoken answer streamed through {@linkcode OpenAiChatLlm} from an in-memory SSE body (no
 * network), every frame read. Turns alternate between the trees so both see the same machine state.
 * Prints the median and p95 per turn and per token, and the heap after all turns.
 *
 *   deno run -A tests/bench/llm_stream_bench.ts [--turns N] [--baseline=<commit or directory>]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { OpenAiChatLlm } from "../../pipeline/engines/openai_chat.ts";
import type { LlmEngine, LlmFrame } from "../../pipeline/engines/types.ts";
import { baselineTree } from "./_baseline.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: { turns: { type: "string", default: "3000" }, baseline: { type: "string", default: "d2e511b" } },
});
const TURNS = Number(args.turns);
const WORDS = "Gerne, ich notiere Ihren Wunsch nach einem Rückruf und gebe ihn an das Praxisteam weiter."
  .split(" ");
const ev = (delta: unknown, finish: string | null = null) =>
  `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const SSE = new TextEncoder().encode(
  Array.from({ length: 40 }, (_, i) => ev({ content: WORDS[i % WORDS.length] + " " })).join("") +
    ev({}, "stop") + "data: [DONE]\n\n",
);
const fakeFetch = (() => Promise.resolve(new Response(SSE))) as typeof fetch;

type Ctor = typeof OpenAiChatLlm;
const tree = await baselineTree(args.baseline);
const Base = (await import(join(tree, "pipeline/engines/openai_chat.ts")) as { OpenAiChatLlm: Ctor })
  .OpenAiChatLlm;
const engines: [string, LlmEngine][] = [
  [
    `baseline ${args.baseline.slice(0, 12)}`,
    new Base({ url: "http://127.0.0.1:1", model: "tom", fetch: fakeFetch }),
  ],
  ["this tree", new OpenAiChatLlm({ url: "http://127.0.0.1:1", model: "tom", fetch: fakeFetch })],
];

async function turn(llm: LlmEngine): Promise<number> {
  const t0 = performance.now();
  let tokens = 0;
  for await (
    const f of llm.chat([{ role: "user", content: "Hallo" }], { signal: new AbortController().signal })
  ) {
    if ((f as LlmFrame).type === "token") tokens++;
  }
  if (tokens !== 40) throw new Error(`expected 40 tokens, got ${tokens}`);
  return performance.now() - t0;
}

const times: number[][] = engines.map(() => []);
for (let i = 0; i < 200; i++) for (const [, e] of engines) await turn(e); // warm-up
for (let i = 0; i < TURNS; i++) {
  for (let k = 0; k < engines.length; k++) times[k].push(await turn(engines[k][1]));
}
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * p)];
console.log(`llm stream loop, ${TURNS} turns of 40 tokens each, alternating (ms per turn; µs per token)`);
for (let k = 0; k < engines.length; k++) {
  const med = q(times[k], 0.5);
  console.log(
    `  ${engines[k][0].padEnd(20)} median ${med.toFixed(3)} ms  p95 ${q(times[k], 0.95).toFixed(3)} ms  ` +
      `${((med * 1000) / 40).toFixed(1)} µs/token`,
  );
}
console.log(`  ratio this/baseline (median): ${(q(times[1], 0.5) / q(times[0], 0.5)).toFixed(2)}`);
console.log(`  heap used after the run: ${(Deno.memoryUsage().heapUsed / 2 ** 20).toFixed(1)} MiB`);
if (tree !== args.baseline) await Deno.remove(tree, { recursive: true });
