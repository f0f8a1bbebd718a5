/**
 * Media path capacity: N concurrent simulated calls at real-time pacing, TOM's media path beside a bare
 * Deno WebSocket echo of the same frames and beside the media path of a baseline tree (default the
 * commit before the one media path, 5756996), in the same run on the same machine.
 *
 *   deno run -A tests/bench/media_bench.ts [--max N] [--seconds S] [--quick] [--nice N | --rt P]
 *     [--baseline=<commit or directory> | --baseline=none]
 *   deno run -A tests/bench/media_bench.ts --role case --mode tom|echo|tom-timer-per-call --calls N
 *
 * Each case starts a fresh server in a child process (so the clients' load is not in its CPU figure) and
 * the clients in a second child. Every call sends 160 B mu-law frames every 20 ms over its own WebSocket
 * on loopback, on one of ten 2 ms phases. The TOM server runs the path every peer uses
 * (gateway/audio/: InboundAudio: decode, resample 8k -> 16k, 20 ms frames with their call time; the
 * pipeline would sit here; OutboundAudio: resample 16k -> 8k, encode, re-frame) and sends the frames
 * back through the Pacer on the shared 10 ms ticker, one frame of start delay. The echo server sends each
 * message straight back. "tom-timer-per-call" is TOM with a 20 ms ticker per call instead of the shared
 * one (one timer per call). The baseline row ("tom@<commit>") is that tree's own bench server (its "tom"
 * mode), driven by this file's clients.
 *
 * Columns: late = frames the pacer sent more than 5 ms after their slot, plus slots it gave up; p99 / max
 * = that lateness (server side, the primary figure); tick max = the shared ticker's own worst wake-up
 * delay (timer + event loop: what the machine adds); runs/c = times per call the queue ran dry and the
 * schedule restarted; cli p99 = how much later than its best-case arrival line (min over the window of
 * arrival - 20 ms * index) each returned frame reached the client; recv % = frames received / expected;
 * CPU % and ms/call-s = server CPU over the window, all threads (/proc/PID/task/{@literal *}/schedstat),
 * per second of one call. N steps up until TOM has a late frame (a failing N is run once more).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import {
  encodeMulaw,
  InboundAudio,
  loadResampler,
  OutboundAudio,
  Pacer,
  sharedTicker,
  Ticker,
} from "../../gateway/audio/mod.ts";
import { sineWave } from "../_rigs/levels.ts";
import { baselineTree } from "./_baseline.ts";

const FRAME_MS = 20;
const LATE_MS = 5;
const HOST = "127.0.0.1";

type Mode = "tom" | "tom-timer-per-call" | "echo" | "baseline";

/** The commit before the one media path (issue 12): its bench measured the generic pair no live call used. */
const DEFAULT_BASELINE = "5756996";
/** How the baseline rows are labelled (its commit, or directory, cut to 12 characters). */
let baselineName = DEFAULT_BASELINE;

interface ServerStats {
  frames: number;
  late: number;
  slipped: number;
  runs: number;
  p99: number;
  max: number;
  tickP99: number;
  tickMax: number;
}

interface CaseResult {
  mode: Mode;
  label: string;
  calls: number;
  seconds: number;
  server: ServerStats | null;
  serverCpuMs: number;
  clientCpuMs: number;
  received: number;
  expected: number;
  clientP99: number;
  clientLate: number;
  sendLateMax: number;
}

const args = parseArgs({
  args: Deno.args,
  options: {
    role: { type: "string", default: "main" },
    mode: { type: "string", default: "tom" },
    port: { type: "string" },
    calls: { type: "string" },
    seconds: { type: "string" },
    "server-pid": { type: "string" },
    nice: { type: "string" },
    rt: { type: "string" },
    max: { type: "string" },
    quick: { type: "boolean", default: false },
    baseline: { type: "string" },
  },
  strict: false,
}).values;

/** Lateness histogram in 0.1 ms buckets up to 100 ms. */
class Histogram {
  #buckets = new Uint32Array(1001);
  count = 0;
  over = 0;
  max = 0;
  add(ms: number): void {
    const v = Math.max(0, ms);
    this.#buckets[Math.min(1000, Math.floor(v * 10))]++;
    this.count++;
    if (v > LATE_MS) this.over++;
    if (v > this.max) this.max = v;
  }
  quantile(q: number): number {
    let need = Math.ceil(this.count * q);
    for (let i = 0; i < this.#buckets.length; i++) {
      need -= this.#buckets[i];
      if (need <= 0) return (i + 1) / 10;
    }
    return this.max;
  }
}

/** CPU nanoseconds of every thread of a process (schedstat is per thread and in ns). */
function cpuNs(pid: number | "self"): number {
  let total = 0;
  for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/schedstat`).split(" ")[0]);
    } catch { /* the thread ended */ }
  }
  return total;
}

// ---------------------------------------------------------------- server child

async function server(mode: Mode): Promise<void> {
  if (mode !== "echo") await loadResampler();
  let hist = new Histogram();
  const pacers = new Set<Pacer<Uint8Array>>();
  let slippedBase = 0;
  let runsBase = 0;
  // The shared ticker's own lateness (timer and event loop), to tell it apart from the pacers' sends.
  let ticks = new Histogram();
  if (mode === "tom") sharedTicker().add((tickMs) => ticks.add(performance.now() - tickMs));
  const sum = (f: (p: Pacer<Uint8Array>) => number) => [...pacers].reduce((n, p) => n + f(p), 0);

  const serve = Deno.serve({ hostname: HOST, port: 0, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/reset") {
      hist = new Histogram();
      ticks = new Histogram();
      slippedBase = sum((p) => p.slippedFrames);
      runsBase = sum((p) => p.runs);
      return new Response("ok");
    }
    if (path === "/stats") {
      const stats: ServerStats = {
        frames: hist.count,
        late: hist.over,
        slipped: sum((p) => p.slippedFrames) - slippedBase,
        runs: sum((p) => p.runs) - runsBase,
        p99: hist.quantile(0.99),
        max: hist.max,
        tickP99: ticks.quantile(0.99),
        tickMax: ticks.count > 0 ? ticks.max : -1,
      };
      return Response.json(stats);
    }
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.binaryType = "arraybuffer";
    if (mode === "echo") {
      socket.onmessage = (e) => socket.send(e.data);
      return response;
    }
    const pacer = new Pacer<Uint8Array>({
      startDelayMs: FRAME_MS, // one frame of slack for the inbound jitter of a just-in-time source
      ticker: mode === "tom-timer-per-call" ? new Ticker({ periodMs: FRAME_MS }) : undefined,
      send: (frames, slot) => {
        const now = performance.now();
        for (let i = 0; i < frames.length; i++) {
          hist.add(now - (slot + i * FRAME_MS));
          socket.send(frames[i]);
        }
      },
    });
    const outbound = new OutboundAudio({
      codec: "mulaw",
      rate: 8000,
      onFrame: (frame) => pacer.enqueue(frame),
      onMark: (name) => pacer.mark(name),
      onCue: (sent) => pacer.cue(sent),
    });
    // The pipeline would consume each 16 kHz frame here and produce the reply; the bench sends it straight back.
    const inbound = new InboundAudio({
      codec: "mulaw",
      rate: 8000,
      onFrame: (pcm16k) => outbound.push(pcm16k),
    });
    pacers.add(pacer);
    socket.onmessage = (e) => {
      if (typeof e.data === "string") return;
      inbound.push(new Uint8Array(e.data));
    };
    socket.onclose = () => {
      pacer.stop();
      pacers.delete(pacer);
      inbound.dispose();
      outbound.dispose();
    };
    return response;
  });
  console.log(JSON.stringify({ port: serve.addr.port }));
  await serve.finished;
}

// ---------------------------------------------------------------- client child

async function client(port: number, calls: number, seconds: number, serverPid: number): Promise<void> {
  const warmupMs = 1500;
  const totalMs = warmupMs + seconds * 1000;
  const maxFrames = Math.ceil(totalMs / FRAME_MS) + 100;
  const payload = encodeMulaw(sineWave({ freq: 1000, rate: 8000, samples: 160, peakDb: -12 })); // 20 ms
  const sockets: WebSocket[] = [];
  const arrivals: Float64Array[] = [];
  const counts = new Uint32Array(calls);
  for (let i = 0; i < calls; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, calls - i) }, (_, j) => {
      const id = i + j;
      const ws = new WebSocket(`ws://${HOST}:${port}/call/${id}`);
      ws.binaryType = "arraybuffer";
      sockets[id] = ws;
      arrivals[id] = new Float64Array(maxFrames);
      ws.onmessage = () => {
        if (counts[id] < maxFrames) arrivals[id][counts[id]++] = performance.now();
      };
      return new Promise<void>((resolve, reject) => {
        ws.onopen = () => resolve();
        ws.onerror = () => reject(new Error(`Cannot open call ${id}`));
      });
    }));
  }
  // Each call sends on its own phase (one of ten 2 ms offsets), on an absolute schedule.
  const ticker = new Ticker({ periodMs: 2 });
  const t0 = ticker.nextTickAt(performance.now() + 20);
  const phase = Array.from({ length: calls }, (_, i) => (i % 10) * 2);
  const nextFrame = new Uint32Array(calls);
  let sendLateMax = 0;
  let measuring = false;
  let stopAt = Infinity;
  const done = Promise.withResolvers<void>();
  const handler = (tickMs: number) => {
    if (tickMs >= stopAt) {
      ticker.remove(handler);
      done.resolve();
      return;
    }
    const now = performance.now();
    for (let id = 0; id < calls; id++) {
      while (t0 + phase[id] + nextFrame[id] * FRAME_MS <= tickMs) {
        const due = t0 + phase[id] + nextFrame[id] * FRAME_MS;
        if (measuring) sendLateMax = Math.max(sendLateMax, now - due);
        sockets[id].send(payload);
        nextFrame[id]++;
      }
    }
  };
  ticker.add(handler);
  await new Promise((r) => setTimeout(r, warmupMs));
  await fetch(`http://${HOST}:${port}/reset`).then((r) => r.text());
  const startCounts = counts.slice();
  const cpu0 = cpuNs(serverPid);
  const self0 = cpuNs("self");
  const w0 = performance.now();
  measuring = true;
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu1 = cpuNs(serverPid);
  const self1 = cpuNs("self");
  const wall = (performance.now() - w0) / 1000;
  measuring = false;
  const stats = await fetch(`http://${HOST}:${port}/stats`).then((r) => r.json()) as ServerStats;
  stopAt = 0;
  await done.promise;

  // Client-side jitter over the measuring window: lateness against each call's best-case arrival line.
  const jitter = new Histogram();
  let received = 0;
  for (let id = 0; id < calls; id++) {
    const a = arrivals[id];
    let base = Infinity;
    for (let k = startCounts[id]; k < counts[id]; k++) base = Math.min(base, a[k] - k * FRAME_MS);
    for (let k = startCounts[id]; k < counts[id]; k++) jitter.add(a[k] - k * FRAME_MS - base);
    received += counts[id] - startCounts[id];
  }
  for (const ws of sockets) ws.close();
  const result: Omit<CaseResult, "mode" | "label"> = {
    calls,
    seconds: wall,
    server: stats,
    serverCpuMs: (cpu1 - cpu0) / 1e6,
    clientCpuMs: (self1 - self0) / 1e6,
    received,
    expected: Math.round(calls * wall * 1000 / FRAME_MS),
    clientP99: jitter.quantile(0.99),
    clientLate: jitter.over,
    sendLateMax,
  };
  console.log(JSON.stringify(result));
  Deno.exit(0);
}

// ---------------------------------------------------------------- orchestration

/**
 * The command line for a child: plain, under `nice -n N` (`--nice N`), or under `chrt -f P` (`--rt P`,
 * SCHED_FIFO, root only). Priority is how a deployment keeps other work on the box from delaying media
 * (FreeSWITCH runs with -rp, Asterisk with -p: real-time priority); here it also shields the figures
 * from other processes. Servers and clients get the same; the kernel keeps 5 % of CPU for the rest.
 */
function withPriority(denoArgs: string[]): string[] {
  const deno = [Deno.execPath(), ...denoArgs];
  if (args.rt !== undefined) return ["chrt", "-f", String(args.rt), ...deno];
  if (args.nice !== undefined) return ["nice", "-n", String(args.nice), ...deno];
  return deno;
}

/**
 * One case. A baseline case runs the server of the bench in `baseline` (a tree) in its "tom" mode; the
 * clients are always this file's.
 */
async function runCase(mode: Mode, calls: number, seconds: number, baseline?: string): Promise<CaseResult> {
  const self = new URL(import.meta.url).pathname;
  const serverFile = mode === "baseline" ? join(baseline ?? ".", "tests", "bench", "media_bench.ts") : self;
  const serverArgs = [
    "run",
    "-A",
    serverFile,
    "--role",
    "server",
    "--mode",
    mode === "baseline" ? "tom" : mode,
  ];
  const [serverCmd, ...serverRest] = withPriority(serverArgs);
  const srv = new Deno.Command(serverCmd, {
    args: serverRest,
    ...(mode === "baseline" ? { cwd: baseline } : {}),
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = srv.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let line = "";
  while (!line.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`Cannot start the ${mode} server: it exited`);
    line += value;
  }
  const { port } = JSON.parse(line.split("\n")[0]) as { port: number };
  try {
    const clientArgs = [
      "run",
      "-A",
      self,
      "--role",
      "client",
      "--port",
      String(port),
      "--calls",
      String(calls),
      "--seconds",
      String(seconds),
      "--server-pid",
      String(srv.pid),
    ];
    const [clientCmd, ...clientRest] = withPriority(clientArgs);
    const out = await new Deno.Command(clientCmd, {
      args: clientRest,
      stdout: "piped",
      stderr: "inherit",
    }).output();
    if (!out.success) throw new Error(`Cannot run the clients for ${mode} x ${calls}`);
    const text = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "{}";
    const result = JSON.parse(text) as Omit<CaseResult, "mode" | "label">;
    const label = mode === "baseline" ? `tom@${baselineName}` : mode;
    return { mode, label, ...result, server: mode === "echo" ? null : result.server };
  } finally {
    srv.kill("SIGTERM");
    await srv.status;
    reader.releaseLock();
  }
}

function perCallSecond(r: CaseResult): number {
  return r.serverCpuMs / (r.calls * r.seconds);
}

function row(r: CaseResult): string {
  const s = r.server;
  const cells = [
    r.label.padEnd(18),
    String(r.calls).padStart(5),
    (s ? String(s.frames) : String(r.received)).padStart(8),
    (s ? String(s.late + s.slipped) : "-").padStart(5),
    (s ? s.p99.toFixed(1) : "-").padStart(6),
    (s ? s.max.toFixed(1) : "-").padStart(6),
    (s && s.tickMax >= 0 ? s.tickMax.toFixed(1) : "-").padStart(8),
    (s ? (s.runs / r.calls).toFixed(2) : "-").padStart(6),
    r.clientP99.toFixed(1).padStart(7),
    (100 * r.received / Math.max(1, r.expected)).toFixed(1).padStart(6),
    (r.serverCpuMs / (r.seconds * 10)).toFixed(1).padStart(7),
    perCallSecond(r).toFixed(3).padStart(9),
    (r.clientCpuMs / (r.seconds * 10)).toFixed(1).padStart(8),
  ];
  return `| ${cells.join(" | ")} |`;
}

function passed(r: CaseResult): boolean {
  const s = r.server as ServerStats;
  return s.late + s.slipped === 0 && r.received >= 0.98 * r.expected;
}

async function main(): Promise<void> {
  const quick = args.quick === true;
  const seconds = Number(args.seconds ?? (quick ? 4 : 7));
  const max = Number(args.max ?? 1000);
  const steps = [50, 100, 200, 300, 400, 500, 600, 800, 1000].filter((n) => n <= max);
  const baselineArg = typeof args.baseline === "string" ? args.baseline : DEFAULT_BASELINE;
  const baseline = baselineArg === "none" ? undefined : await baselineTree(baselineArg);
  baselineName = baselineArg.slice(0, 12);
  const budgetMs = baseline ? 260_000 : 170_000;
  const caseMs = (seconds + 4) * 1000;
  if (baseline) console.log(`baseline: ${baselineArg} (unpacked in ${baseline})`);
  const began = performance.now();
  const left = () => budgetMs - (performance.now() - began);
  console.log(
    `media bench: ${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}, ` +
      (args.nice === undefined ? "" : `nice ${args.nice}, `) +
      (args.rt === undefined ? "" : `SCHED_FIFO priority ${args.rt}, `) +
      `${seconds} s measured per case after 1.5 s warm-up; late = sent > ${LATE_MS} ms after its slot ` +
      `(or slot given up); a failing N is run once more, since other work on the machine shows up as lateness\n`,
  );
  console.log(
    "| server             |     N |   frames |  late | p99 ms | max ms | tick max | runs/c | cli p99 | recv % |   CPU % | ms/call-s | cli CPU% | load 1m |",
  );
  console.log(
    "| ------------------ | ----- | -------- | ----- | ------ | ------ | -------- | ------ | ------- | ------ | ------- | --------- | -------- | ------- |",
  );
  const results: CaseResult[] = [];
  const run = async (mode: Mode, n: number) => {
    const r = await runCase(mode, n, seconds, baseline);
    console.log(`${row(r)} ${Deno.loadavg()[0].toFixed(2).padStart(7)} |`);
    results.push(r);
    return r;
  };
  let best = 0;
  for (const n of steps) {
    if (left() < (baseline ? 3 : 2) * caseMs) {
      console.log(`(time budget reached before N = ${n})`);
      break;
    }
    await run("echo", n);
    let tom = await run("tom", n);
    if (!passed(tom) && left() > caseMs) tom = await run("tom", n);
    if (baseline && left() > caseMs) await run("baseline", n);
    if (!passed(tom)) break;
    best = n;
  }
  if (best > 0 && left() > caseMs) await run("tom-timer-per-call", best);
  console.log("\nCPU per call-second, TOM media path / bare echo (same N, same run):");
  for (const tom of results.filter((r) => r.mode !== "echo")) {
    const echo = results.find((r) => r.mode === "echo" && r.calls === tom.calls);
    if (!echo) continue;
    console.log(
      `  ${tom.label.padEnd(18)} N=${String(tom.calls).padEnd(4)} ${perCallSecond(tom).toFixed(3)} / ` +
        `${perCallSecond(echo).toFixed(3)} ms = ${(perCallSecond(tom) / perCallSecond(echo)).toFixed(2)}x`,
    );
  }
  console.log(
    `\nLargest N with no frame more than ${LATE_MS} ms late: ${best}${best >= 200 ? "" : " (budget: 200)"}` +
      ` (${((performance.now() - began) / 1000).toFixed(0)} s)`,
  );
}

if (import.meta.main) {
  if (args.role === "server") await server(args.mode as Mode);
  else if (args.role === "case") {
    const mode = args.mode as Mode;
    baselineName = String(args.baseline ?? DEFAULT_BASELINE).slice(0, 12);
    const tree = mode === "baseline"
      ? await baselineTree(String(args.baseline ?? DEFAULT_BASELINE))
      : undefined;
    console.log(row(await runCase(mode, Number(args.calls), Number(args.seconds ?? 7), tree)));
  } else if (args.role === "client") {
    await client(Number(args.port), Number(args.calls), Number(args.seconds), Number(args["server-pid"]));
  } else await main();
}
