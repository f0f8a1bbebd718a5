/**
 * `tom probe [--json] [--turns N] [--calls C] [--stagger MS] [--audiosocket]`: places synthetic calls through the browser
 * protocol (or AudioSocket, as Asterisk would) against a running TOM, speaking German utterances synthesized with espeak-ng at real time, and
 * measures the voice-to-voice latency (caller's last voiced sample sent -> TOM's first answer sample
 * received) plus TOM's own per-stage latencies (from `turn_end`). Prints p50/p95, compares them with the
 * budgets, writes JSON, and exits 1 when a budget is missed, a turn went unanswered or a call failed (2 on
 * bad arguments). An unanswered turn is counted and the call goes on; the answered turns' figures stay.
 *
 * @module
 */
import type { Config } from "../../infra/mod.ts";
import { applianceHmacKey } from "./token.ts";
import { mintCallToken } from "../../gateway/mod.ts";
import { createEspeakTts } from "../../pipeline/mod.ts";
import { synthesizeAll } from "../../pipeline/mod.ts";
import { PHRASES } from "../../pipeline/mod.ts";
import { probeCall, type ProbeCallResult } from "../probe/call.ts";
import { probeAudioSocketCall } from "../probe/audiosocket_call.ts";
import {
  type Budget,
  type BudgetResult,
  checkBudgets,
  summarize,
  type Summary,
} from "../probe/percentiles.ts";

/** Arguments as typed on the command line (strings), or set by tests. */
export interface ProbeArgs {
  json?: boolean;
  turns?: string;
  calls?: string;
  /** The calls arrive spread evenly over this many ms, like a real line (default 50 ms apart). */
  stagger?: string;
  /** Base URL of TOM (default from `http.host`/`http.port`), e.g. `http://127.0.0.1:8080`. */
  url?: string;
  /** Write the JSON report here. */
  out?: string;
  /** Voice-to-voice budgets in ms (default 600 and 900, DESIGN.md). */
  budgetP50?: string;
  budgetP95?: string;
  /** Longest wait for one answer, ms (default 60000). */
  answerTimeout?: string;
  /** Call TOM's AudioSocket server (like Asterisk) instead of the browser protocol. */
  audiosocket?: boolean;
  /** AudioSocket `host:port` (default `audiosocket.host`/`audiosocket.port`). */
  audiosocketAddress?: string;
  /** Caller utterances (default: five German sentences). */
  utterances?: string[];
}

/** German caller sentences the probe speaks, in turn. */
export const PROBE_UTTERANCES: readonly string[] = [
  "Guten Tag, ich hätte gern einen Termin.",
  "Am liebsten nächste Woche am Vormittag.",
  "Ich habe seit drei Tagen Husten.",
  "Muss ich meine Versichertenkarte mitbringen?",
  "Vielen Dank, auf Wiederhören.",
];

/** The probe's JSON report. */
export interface ProbeReport {
  url: string;
  calls: number;
  /** The calls arrived spread over this many ms. */
  staggerMs: number;
  turnsPerCall: number;
  startedAt: string;
  wallMs: number;
  summaries: Record<string, Summary>;
  budgets: BudgetResult[];
  /** Utterances TOM answered, and those it did not (their figures are left out, the run goes on). */
  answered: number;
  unanswered: number;
  errors: string[];
  results: ProbeCallResult[];
}

const UNANSWERED = {
  prompted: "TOM re-prompted instead of answering",
  timeout: "no answer within the answer timeout",
} as const;

function int(v: string | undefined, dflt: number, lo: number, hi: number, name: string): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > hi) {
    throw new RangeError(`--${name} must be a whole number from ${lo} to ${hi}`);
  }
  return n;
}

/**
 * When each call starts, ms after the first: spread evenly over `staggerMs` (the last starts at
 * `staggerMs`), like calls arriving on a real line.
 */
export function arrivalOffsets(calls: number, staggerMs: number): number[] {
  return Array.from({ length: calls }, (_, i) => (calls > 1 ? Math.round((i * staggerMs) / (calls - 1)) : 0));
}

/**
 * Run the probe.
 *
 * @param config the appliance's configuration (address and token key)
 * @param args command line arguments
 * @returns the exit code: 0 all budgets met, 1 a budget missed or calls failed, 2 bad arguments
 */
export async function probeMain(config: Config, args: ProbeArgs): Promise<number> {
  let calls: number, turns: number, p50: number, p95: number, answerTimeoutMs: number, stagger: number;
  try {
    calls = int(args.calls, 1, 1, 500, "calls");
    stagger = int(args.stagger, 50 * (calls - 1), 0, 3_600_000, "stagger");
    turns = int(args.turns, 3, 1, 100, "turns");
    p50 = int(args.budgetP50, 600, 1, 600_000, "budget-p50");
    p95 = int(args.budgetP95, 900, 1, 600_000, "budget-p95");
    answerTimeoutMs = int(args.answerTimeout, 60_000, 100, 3_600_000, "answer-timeout");
  } catch (e) {
    console.error(`tom probe: ${(e as Error).message}`);
    return 2;
  }
  const host = config.http.host === "0.0.0.0" || config.http.host === "::" ? "127.0.0.1" : config.http.host;
  const base = (args.url ?? `http://${host.includes(":") ? `[${host}]` : host}:${config.http.port}`).replace(
    /\/$/,
    "",
  );
  const wsBase = base.replace(/^http/, "ws");
  const texts = args.utterances ?? PROBE_UTTERANCES;
  const tts = createEspeakTts({
    bin: config.tts.kind === "espeak-ng" ? config.tts.bin : "espeak-ng",
    voice: "de",
  });
  const ac = new AbortController();
  const voices: Int16Array[] = [];
  for (const t of texts.slice(0, Math.min(texts.length, turns))) {
    const pcm = await synthesizeAll(tts, t, ac.signal);
    if (!pcm) {
      console.error("tom probe: cannot synthesize the caller's utterances with espeak-ng");
      return 1;
    }
    voices.push(pcm);
  }
  const utterances = Array.from({ length: turns }, (_, i) => voices[i % voices.length]);
  let key: Uint8Array | null = null;
  try {
    key = applianceHmacKey(config);
  } catch {
    key = null; // devBypass deployments need no token
  }
  const startedAt = new Date();
  const t0 = performance.now();
  const [asHost, asPort] =
    (args.audiosocketAddress ?? `${config.audiosocket.host}:${config.audiosocket.port}`)
      .split(/:(?=\d+$)/);
  const offsets = arrivalOffsets(calls, stagger);
  const arrival = (i: number) => new Promise((r) => setTimeout(r, offsets[i]));
  const results = await Promise.all(Array.from({ length: calls }, async (_, i) => {
    if (args.audiosocket) {
      await arrival(i);
      return probeAudioSocketCall({
        host: asHost === "0.0.0.0" ? "127.0.0.1" : asHost,
        port: Number(asPort),
        utterances,
        trailingSilenceMs: 1_200,
        answerTimeoutMs,
      });
    }
    const callId = `probe-${crypto.randomUUID()}`;
    const token = key
      ? await mintCallToken(key, { callId, ttlSeconds: Math.min(3600, config.jwt.maxTtlSeconds) })
      : "";
    await arrival(i);
    return probeCall({
      url: `${wsBase}/ws/stream/${callId}${token ? `?token=${token}` : ""}`,
      callId,
      utterances,
      trailingSilenceMs: 1_200,
      answerTimeoutMs,
      repromptText: PHRASES.reprompt,
    });
  }));
  await tts.close?.();
  const measures: Record<string, number[]> = { voice_to_voice_wire: [] };
  const errors: string[] = [];
  let answered = 0;
  let unanswered = 0;
  for (const r of results) {
    if (r.error) errors.push(`${r.callId}: ${r.error}`);
    for (const t of r.turns) {
      if (t.error) errors.push(`${r.callId}: ${t.error}`);
      if (t.answered) answered++;
      else if (t.unanswered) unanswered++;
      if (t.voiceToVoiceMs !== null) measures.voice_to_voice_wire.push(t.voiceToVoiceMs);
      for (const [k, v] of Object.entries(t.stages)) (measures[k] ??= []).push(v);
    }
  }
  const summaries = Object.fromEntries(Object.entries(measures).map(([k, v]) => [k, summarize(v)]));
  const budgets: Budget[] = [
    { measure: "voice_to_voice_wire", percentile: "p50", maxMs: p50 },
    { measure: "voice_to_voice_wire", percentile: "p95", maxMs: p95 },
  ];
  const verdicts = checkBudgets(summaries, budgets);
  const report: ProbeReport = {
    url: args.audiosocket ? `audiosocket://${asHost}:${asPort}` : base,
    calls,
    staggerMs: stagger,
    turnsPerCall: turns,
    startedAt: startedAt.toISOString(),
    wallMs: Math.round(performance.now() - t0),
    summaries,
    budgets: verdicts,
    answered,
    unanswered,
    errors,
    results,
  };
  const text = JSON.stringify(report, null, 2);
  if (args.out) await Deno.writeTextFile(args.out, text + "\n");
  if (args.json) console.log(text);
  else {
    console.log(
      `tom probe: ${calls} call(s) x ${turns} turn(s), arriving over ${stagger} ms, against ${report.url}`,
    );
    console.log("measure".padEnd(24) + "n".padStart(5) + "p50 ms".padStart(10) + "p95 ms".padStart(10));
    for (const [k, s] of Object.entries(summaries)) {
      console.log(
        k.padEnd(24) + String(s.n).padStart(5) + String(s.p50).padStart(10) + String(s.p95).padStart(10),
      );
    }
    for (const b of verdicts) {
      console.log(
        `${b.ok ? "ok  " : "MISS"} ${b.measure} ${b.percentile} ${b.actualMs} ms (budget ${b.maxMs} ms)`,
      );
    }
    console.log(`turns: ${answered} answered, ${unanswered} unanswered`);
    for (const r of results) {
      r.turns.forEach((t, i) => {
        if (t.unanswered) console.log(`unanswered: ${r.callId} turn ${i + 1} (${UNANSWERED[t.unanswered]})`);
        if (t.unfinished) {
          console.log(`still speaking: ${r.callId} turn ${i + 1} (answer longer than the answer wait)`);
        }
      });
    }
    for (const e of errors.slice(0, 10)) console.log(`error: ${e}`);
  }
  return verdicts.every((b) => b.ok) && errors.length === 0 && unanswered === 0 ? 0 : 1;
}
