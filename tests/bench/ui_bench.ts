/**
 * Admin UI benchmark: server time per page (full request through auth, database and server-side render,
 * via `app.request`) and the render step alone (Server-Timing), against a baseline in the same run: a
 * minimal Preact `renderToString` of a static page. Also the JavaScript each page ships (island entry +
 * shared chunks, minified, and gzip-compressed). Prints a table; no assertions on time.
 *
 * Usage: deno run -A tests/bench/ui_bench.ts [--iterations N]
 *
 * @module
 */
/** @jsxImportSource preact */
import { renderToString } from "preact-render-to-string";
import { h } from "preact";
import { parseArgs } from "node:util";
import {
  completeAnalysis,
  createCall,
  createPerson,
  endCall,
  enqueueAnalysis,
  listAccounts,
  markCallAnswered,
  saveMemory,
} from "../../store/mod.ts";
import { storeTranscriptTurn } from "../../store/crypto/mod.ts";
import { recordTurnMetrics } from "../../store/mod.ts";
import { setupAndLogin, startTestUi } from "../ui/_harness.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { iterations: { type: "string", default: "200" } },
});
const N = Math.max(10, Number(values.iterations));

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function gzipSize(bytes: Uint8Array): Promise<number> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return (await new Response(stream).arrayBuffer()).byteLength;
}

const t = await startTestUi({ islands: true });
const c = await setupAndLogin(t);
const accountId = listAccounts(t.store)[0].id;
// A practice with 200 people and 600 calls; one person with 20 analysed calls and transcripts.
const people = [];
for (let i = 0; i < 200; i++) {
  people.push(createPerson(t.store, accountId, {
    kind: "patient",
    displayName: `Person ${String(i).padStart(3, "0")}`,
    phoneE164: `+49301000${String(i).padStart(4, "0")}`,
    consentTranscript: i === 0,
  }));
}
const now = Date.now();
let detailCall = "";
for (let i = 0; i < 600; i++) {
  const p = people[i === 0 ? 0 : i % 20];
  const at = now - (i % 7) * 86_400_000 - i * 1000;
  const call = createCall(t.store, accountId, {
    direction: "inbound",
    transport: "freeswitch",
    personId: p.id,
    startedAt: at,
  });
  markCallAnswered(t.store, accountId, call.id, at + 500);
  if (p.id === people[0].id) {
    for (let k = 0; k < 12; k++) {
      await storeTranscriptTurn(t.store, t.ui.keyring, accountId, {
        callId: call.id,
        turnIndex: k,
        speaker: k % 2 ? "caller" : "assistant",
        text: `Das ist Satz ${k} eines ganz normalen Gesprächs über den Tag und das Wetter.`,
        interrupted: k === 3,
      });
      recordTurnMetrics(t.store, accountId, call.id, {
        turnIndex: k,
        vadMs: 200,
        sttMs: 150,
        llmFirstTokenMs: 300,
        ttsFirstAudioMs: 80,
        totalMs: 730,
        bargeIn: k === 3,
      });
    }
    detailCall = call.id;
  }
  endCall(t.store, accountId, call.id, { status: "completed", at: at + 90_000 });
  enqueueAnalysis(t.store, accountId, call.id);
  completeAnalysis(t.store, accountId, call.id, {
    sentimentLabel: "neutral",
    sentimentScore: ((i % 11) - 5) / 5,
    confidence: 0.8,
    reason: "x",
    summary: ["a", "b"],
  });
}
saveMemory(t.store, accountId, people[0].id, {
  facts: ["Hat einen Garten", "Enkelin Lisa"],
  preferences: ["Kaffee"],
}, 0);

const pages: [string, string][] = [
  ["login (public)", "/login"],
  ["dashboard", "/"],
  ["people list (200)", "/people"],
  ["person detail", `/people/${people[0].id}`],
  ["calls list (50 of 600)", "/calls"],
  ["call detail (12 turns)", `/calls/${detailCall}`],
  ["live", "/live"],
  ["schedules", "/schedules"],
  ["settings", "/settings"],
  ["test call", "/test-call"],
  ["API GET /api/people", "/api/people"],
];
const anon = new (c.constructor as typeof import("../ui/_harness.ts").Client)(t.app);

// Baseline: a minimal static page rendered with Preact.
const static_ = () =>
  "<!DOCTYPE html>" + renderToString(
    h(
      "html",
      { lang: "de" },
      h("head", null, h("title", null, "TOM")),
      h("body", null, h("main", null, h("h1", null, "Übersicht"), h("p", null, "Hallo"))),
    ),
  );
for (let i = 0; i < 200; i++) static_();
const base: number[] = [];
for (let i = 0; i < N; i++) {
  const t0 = performance.now();
  static_();
  base.push(performance.now() - t0);
}

interface Row {
  page: string;
  p50: number;
  p95: number;
  render50: number;
  bytes: number;
  js: number;
  jsGz: number;
}
const rows: Row[] = [];
const m = t.ui.assets.manifest;
for (const [name, path] of pages) {
  const client = path === "/login" ? anon : c;
  for (let i = 0; i < 10; i++) await (await client.fetch(path)).arrayBuffer();
  const total: number[] = [];
  const render: number[] = [];
  let bytes = 0;
  let html = "";
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    const res = await client.fetch(path);
    const body = await res.text();
    total.push(performance.now() - t0);
    const st = /render;dur=([\d.]+)/.exec(res.headers.get("server-timing") ?? "");
    if (st) render.push(Number(st[1]));
    bytes = body.length;
    html = body;
  }
  const entries = [...html.matchAll(/<script type="module" src="\/ui\/i\/[0-9a-f]+\/([^"]+)\.js"/g)].map((
    x,
  ) => x[1]);
  if (path === "/test-call") entries.push("pcm_capture-worklet");
  const files = new Set(
    entries.flatMap((e) => (m?.entries[e] ? [m.entries[e], ...(m.imports[e] ?? [])] : [])),
  );
  let js = 0;
  let jsGz = 0;
  for (const f of files) {
    const body = new Uint8Array(await (await c.fetch(`/ui/i/${m?.outputHash}/${f}`)).arrayBuffer());
    js += body.byteLength;
    jsGz += await gzipSize(body);
  }
  rows.push({
    page: name,
    p50: pct(total, 50),
    p95: pct(total, 95),
    render50: render.length ? pct(render, 50) : NaN,
    bytes,
    js,
    jsGz,
  });
}

const b50 = pct(base, 50);
console.log(
  `Admin UI, ${N} requests per page, in-process app.request (no sockets), Deno ${Deno.version.deno}`,
);
console.log(
  `Baseline: minimal Preact renderToString of a static page: p50 ${b50.toFixed(3)} ms, p95 ${
    pct(base, 95).toFixed(3)
  } ms\n`,
);
console.log(
  "| page | request p50 ms | request p95 ms | render p50 ms | render / baseline | HTML bytes | JS bytes (min) | JS gzip |",
);
console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
for (const r of rows) {
  console.log(
    `| ${r.page} | ${r.p50.toFixed(2)} | ${r.p95.toFixed(2)} | ${
      Number.isNaN(r.render50) ? "–" : r.render50.toFixed(2)
    } | ${
      Number.isNaN(r.render50) ? "–" : (r.render50 / b50).toFixed(0) + "×"
    } | ${r.bytes} | ${r.js} | ${r.jsGz} |`,
  );
}
await t.close();
