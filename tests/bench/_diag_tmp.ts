/**
 * Media path capacity: N concurrent simulated calls at real-time pacing, TOM's media path beside a bare
 * Deno WebSocket echo of the same frames, in the same run on the same machine.
 *
 *   deno run -A tests/bench/media_bench.ts [--max N] [--seconds S] [--quick]
 *
 * Each case starts a fresh server in a child process (so the clients' load is not in its CPU figure) and
 * the clients in a second child. Every call sends 160 B mu-law frames every 20 ms over its own WebSocket
 * on loopback. The TOM server runs the real path per call: re-frame, decode, resample 8k -> 16k (the
 * pipeline would sit here), resample 16k -> 8k, re-frame, encode, and send back through a Pacer on the
 * shared 10 ms ticker. The echo server sends each message straight back.
 *
 * Figures: "late" = frames the pacer sent more than 5 ms after their slot (plus slots it had to give
 * up), measured in the server; p99/max = that lateness. Client jitter = how much later than its best-case
 * arrival (min over the call of arrival - 20 ms * index) each returned frame came, as the clients saw it.
 * Server CPU = all threads of the server process (/proc/PID/task/{@literal *}/schedstat) over the measuring
 * window; "ms/call-s" = CPU milliseconds per second of one call. N steps up until TOM has a late frame.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { sharedTicker as sharedTicker2 } from "../../gateway/audio/ticker.ts";
import {
  createResampler,
  decodeMulaw,
  encodeMulaw,
  FrameAssembler,
  loadResampler,
  Pacer,
  Reframer,
  sineWave,
  Ticker,
} from "../../gateway/audio/mod.ts";

const FRAME_BYTES = 160; // 20 ms of mu-law at 8 kHz
const FRAME_MS = 20;
const LATE_MS = 5;
const HOST = "127.0.0.1";

type Mode = "tom" | "tom-timer-per-call" | "echo";

interface ServerStats {
  frames: number;
  late: number;
  slipped: number;
  runs: number;
  p99: number;
  max: number;
}

interface CaseResult {
  mode: Mode;
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
    max: { type: "string" },
    quick: { type: "boolean", default: false },
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
  let tickHist = new Histogram();
  let intra = new Histogram();
  let firedAt = 0; let firedTick = 0; let wrongTick = 0; let slotBehind = new Histogram();
  if (mode !== "echo") {
    const { sharedTicker } = await import("../../gateway/audio/ticker.ts");
    let prevTick = 0;
    sharedTicker().add((t) => { firedAt = performance.now(); firedTick = t; tickHist.add(prevTick ? firedAt - (prevTick + 10) : 0); prevTick = t; });
    setInterval(() => {}, 1000);
  }
  const sum = (f: (p: Pacer<Uint8Array>) => number) => [...pacers].reduce((n, p) => n + f(p), 0);

  const serve = Deno.serve({ hostname: HOST, port: 0, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/reset") {
      hist = new Histogram();
      tickHist = new Histogram(); intra = new Histogram(); slotBehind = new Histogram(); wrongTick = 0;
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
      };
      console.error(JSON.stringify({ ...stats, tickP99: tickHist.quantile(0.99), tickMax: tickHist.max, tickLate: tickHist.over, ticks: tickHist.count, intraP99: intra.quantile(0.99), intraMax: intra.max, wrongTick, behindP99: slotBehind.quantile(0.99), behindMax: slotBehind.max }));
      return Response.json(stats);
    }
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.binaryType = "arraybuffer";
    if (mode === "echo") {
      socket.onmessage = (e) => socket.send(e.data);
      return response;
    }
    if ((mode as string) === "codec") {
      socket.onmessage = (e) => socket.send(encodeMulaw(decodeMulaw(new Uint8Array(e.data))));
      return response;
    }
    if ((mode as string) === "nopace") {
      const u = createResampler(8000, 16000); const d = createResampler(16000, 8000);
      socket.onmessage = (e) => socket.send(encodeMulaw(d.process(u.process(decodeMulaw(new Uint8Array(e.data))))));
      return response;
    }
    if ((mode as string) === "tomA" || (mode as string) === "tomB") {
      const u = createResampler(8000, 16000); const d = createResampler(16000, 8000);
      const p = new Pacer<Uint8Array>({ leadMs: 20, send: (f, slot) => { hist.add(performance.now() - slot); socket.send(f); } });
      socket.onmessage = (e) => {
        const inb = new Uint8Array(e.data);
        const out = encodeMulaw(d.process(u.process(decodeMulaw(inb))));
        p.enqueue((mode as string) === "tomA" ? inb : out);
      };
      return response;
    }
    if ((mode as string) === "paceonly") {
      const p = new Pacer<Uint8Array>({ leadMs: 20, send: (f, slot) => { hist.add(performance.now() - slot); socket.send(f); } });
      socket.onmessage = (e) => p.enqueue(new Uint8Array(e.data));
      return response;
    }
    const inFrames = new Reframer(FRAME_BYTES);
    const up = createResampler(8000, 16000);
    const down = createResampler(16000, 8000);
    const outFrames = new FrameAssembler(FRAME_BYTES);
    const pacer = new Pacer<Uint8Array>({
      leadMs: FRAME_MS, // one frame of slack for the inbound jitter of a just-in-time source
      ticker: mode === "tom-timer-per-call" ? new Ticker({ periodMs: FRAME_MS }) : undefined,
      send: (frame, slot) => {
        const now = performance.now(); intra.add(now - firedAt); slotBehind.add(firedTick - slot);
        hist.add(now - slot);
        if (socket.readyState === WebSocket.OPEN) socket.send(frame);
      },
    });
    pacers.add(pacer);
    const me = pacers.size;
    let logged = 0;
    const T0 = performance.now();
    socket.onmessage = (e) => {
      if (typeof e.data === "string") return;
      for (const frame of inFrames.push(new Uint8Array(e.data))) {
        const pcm16k = up.process(decodeMulaw(frame)); // the pipeline would consume this
        const d = down.process(pcm16k);
        const outs = outFrames.push(d);
        for (const out of outs) pacer.enqueue(encodeMulaw(out));
        if (Deno.env.get("POLL")) sharedTicker2().poll();
        if (me === 3 && performance.now() - T0 > 2000 && logged++ < 40) console.error(`in t=${(performance.now()-T0).toFixed(1)} up=${pcm16k.length} down=${d.length} outs=${outs.length} q=${pacer.queuedFrames} sent=${pacer.sentFrames} runs=${pacer.runs}`);
      }
    };
    socket.onclose = () => {
      pacer.stop();
      pacers.delete(pacer);
      up.dispose();
      down.dispose();
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
  const payload = encodeMulaw(sineWave({ freq: 1000, rate: 8000, samples: 160, peakDb: -12 }));
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
  // Each call sends on its own phase (one of four 5 ms offsets), on an absolute schedule.
  const ticker = new Ticker({ periodMs: 5 });
  const t0 = ticker.nextTickAt(performance.now() + 20);
  const phase = Array.from({ length: calls }, (_, i) => (i % 4) * 5);
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
    for (let k = 0; k < counts[id]; k++) base = Math.min(base, a[k] - k * FRAME_MS);
    for (let k = startCounts[id]; k < counts[id]; k++) jitter.add(a[k] - k * FRAME_MS - base);
    received += counts[id] - startCounts[id];
  }
  for (const ws of sockets) ws.close();
  const result: Omit<CaseResult, "mode"> = {
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

async function runCase(mode: Mode, calls: number, seconds: number): Promise<CaseResult> {
  const self = new URL(import.meta.url).pathname;
  const srv = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", self, "--role", "server", "--mode", mode],
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
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
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
      ],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    if (!out.success) throw new Error(`Cannot run the clients for ${mode} x ${calls}`);
    const text = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "{}";
    const result = JSON.parse(text) as Omit<CaseResult, "mode">;
    return { mode, ...result, server: result.server };
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
    r.mode.padEnd(18),
    String(r.calls).padStart(5),
    (s ? String(s.frames) : String(r.received)).padStart(8),
    (s ? String(s.late + s.slipped) : "-").padStart(6),
    (s ? s.p99.toFixed(1) : "-").padStart(7),
    (s ? s.max.toFixed(1) : "-").padStart(7),
    (s ? (s.runs / r.calls).toFixed(2) : "-").padStart(7),
    r.clientP99.toFixed(1).padStart(8),
    (100 * r.received / Math.max(1, r.expected)).toFixed(1).padStart(6),
    (r.serverCpuMs / (r.seconds * 10)).toFixed(1).padStart(7),
    perCallSecond(r).toFixed(3).padStart(10),
    (r.clientCpuMs / (r.seconds * 10)).toFixed(1).padStart(7),
  ];
  return `| ${cells.join(" | ")} |`;
}

async function main(): Promise<void> {
  const quick = args.quick === true;
  const seconds = Number(args.seconds ?? (quick ? 4 : 7));
  const max = Number(args.max ?? 1000);
  const steps = [50, 100, 200, 300, 400, 500, 600, 800, 1000].filter((n) => n <= max);
  const budgetMs = 170_000;
  const began = performance.now();
  const load = Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
  console.log(
    `media bench: ${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}, load ${load}, ` +
      `${seconds} s measured per case after 1.5 s warm-up, late = sent > ${LATE_MS} ms after its slot\n`,
  );
  console.log(
    "| server             |     N |   frames |  late | p99 ms | max ms | runs/c | cli p99 | recv % |   CPU % | ms/call-s | cli CPU% |",
  );
  console.log(
    "| ------------------ | ----- | -------- | ----- | ------ | ------ | ------ | ------- | ------ | ------- | --------- | -------- |",
  );
  const results: CaseResult[] = [];
  let best = 0;
  for (const n of steps) {
    if (performance.now() - began > budgetMs - 2 * (seconds + 4) * 1000) {
      console.log(`| (time budget reached before N = ${n}) |`);
      break;
    }
    const echo = await runCase("echo", n, seconds);
    console.log(row(echo));
    const tom = await runCase("tom", n, seconds);
    console.log(row(tom));
    results.push(echo, tom);
    const s = tom.server as ServerStats;
    if (s.late + s.slipped > 0 || tom.received < 0.98 * tom.expected) break;
    best = n;
  }
  if (best > 0 && performance.now() - began < budgetMs - (seconds + 4) * 1000) {
    const perCall = await runCase("tom-timer-per-call", best, seconds);
    console.log(row(perCall));
    results.push(perCall);
  }
  console.log("\nCPU per call-second, TOM media path / bare echo (same N, same run):");
  for (const tom of results.filter((r) => r.mode !== "echo")) {
    const echo = results.find((r) => r.mode === "echo" && r.calls === tom.calls);
    if (!echo) continue;
    console.log(
      `  ${tom.mode} N=${tom.calls}: ${perCallSecond(tom).toFixed(3)} / ${
        perCallSecond(echo).toFixed(3)
      } ms = ` +
        `${(perCallSecond(tom) / perCallSecond(echo)).toFixed(2)}x`,
    );
  }
  console.log(
    `\nLargest N with no frame more than ${LATE_MS} ms late: ${best}${best >= 200 ? "" : " (budget: 200)"}` +
      ` (${((performance.now() - began) / 1000).toFixed(0)} s)`,
  );
}

if (import.meta.main && args.role === "diag") {
  for (const m of (args.mode as string).split(",")) console.log(row(await runCase(m as Mode, Number(args.calls), Number(args.seconds))));
} else if (import.meta.main) {
  if (args.role === "server") await server(args.mode as Mode);
  else if (args.role === "client") {
    await client(Number(args.port), Number(args.calls), Number(args.seconds), Number(args["server-pid"]));
  } else await main();
}
