/**
 * Size of the practice facts block in the system prompt, for a realistic full practice (5 weekdays with 2
 * intervals, 10 closures, 8 team members, 10 services, 15 FAQ, 5 "must not" notes).
 *
 *   deno run -A tests/bench/prompt_facts_bench.ts [path/to/model.gguf]
 *
 * Prints characters, chars/4 (a rough token estimate) and, when a llama-server binary and a model are
 * provisioned (`deno task engines`; default the synthetic model), the token count from llama-server's
 * `/tokenize` for the facts block, the moment lines and the whole system prompt. The synthetic model's
 * vocabulary is that of its GGUF: compare its count with chars/4 before trusting it for a real model.
 *
 * @module
 */
import { ENGINES, enginesMissing } from "../_engines.ts";
import { freePort } from "../_helpers.ts";
import { momentFacts, practiceFacts } from "../../pipeline/practice_facts.ts";
import { buildSystemPrompt, DEFAULT_POLICY } from "../../pipeline/prompt.ts";
import { practiceContext } from "../../pipeline/answerer.ts";
import { fullPractice } from "../pipeline/_practice.ts";

const now = new Date("2026-03-30T08:15:00Z");
const practice = fullPractice();
const texts = {
  facts: practiceFacts(practice, now),
  moment: momentFacts(practice, now),
  system: buildSystemPrompt(DEFAULT_POLICY, undefined, practiceContext(practice, now)),
};

async function tokenize(port: number, content: string): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${port}/tokenize`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ content }),
  });
  if (!r.ok) throw new Error(`/tokenize: HTTP ${r.status}`);
  return ((await r.json()) as { tokens: unknown[] }).tokens.length;
}

async function withLlamaServer(model: string): Promise<Record<string, number> | string> {
  const port = await freePort();
  const child = new Deno.Command(ENGINES.llamaServer, {
    args: ["-m", model, "--host", "127.0.0.1", "--port", String(port), "-c", "4096", "-ngl", "0"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    const end = Date.now() + 60_000;
    for (;;) {
      try {
        const h = await fetch(`http://127.0.0.1:${port}/health`);
        await h.body?.cancel();
        if (h.ok) break;
      } catch { /* not up yet */ }
      if (Date.now() > end) return "llama-server did not become healthy in 60 s";
      await new Promise((r) => setTimeout(r, 200));
    }
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(texts)) out[k] = await tokenize(port, v);
    return out;
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
}

const model = Deno.args[0] ?? ENGINES.llamaModel;
console.log(`facts block of a realistic full practice (${model.split("/").at(-1)}):`);
const tokens = enginesMissing && !Deno.args[0]
  ? `no llama-server: ${enginesMissing}`
  : await withLlamaServer(model);
for (const [k, v] of Object.entries(texts)) {
  const t = typeof tokens === "string" ? "" : `, ${tokens[k]} tokens (llama-server /tokenize)`;
  console.log(
    `  ${k.padEnd(7)} ${String(v.length).padStart(5)} chars, ~${
      Math.ceil(v.length / 4)
    } tokens (chars/4)${t}`,
  );
}
if (typeof tokens === "string") console.log(`  ${tokens}`);
