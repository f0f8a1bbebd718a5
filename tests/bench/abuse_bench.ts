/**
 * Front-door exhaustion: each attack against a real `tom serve` child (echo answering stage, no engines,
 * FreeSWITCH route on), reporting the child's RSS before, after, and its peak (VmHWM), for the current
 * tree and, as the baseline in the same run, the tree before the limits (commit 4b77a87: `Deno.serve`,
 * body read whole, Deno's WebSocket). Attacks:
 *
 * - a 256 MiB chunked body to `POST /login`;
 * - one 48 MiB WebSocket frame to `/ws/freeswitch` (from loopback, an allowed telephony peer);
 * - a fragmented message that never finishes, 1 MiB fragments up to 96 MiB, on one connection;
 * - 200 connections that send half a request's headers and then a header line every second (slowloris).
 *
 * Run: `deno run -A tests/bench/abuse_bench.ts [--baseline=<commit or directory>]` (Linux: reads /proc).
 *
 * @module
 */
import { join } from "node:path";
import { cleanEnv, freePort, ROOT } from "../_helpers.ts";

const arg = Deno.args.find((a) => a.startsWith("--baseline="))?.slice("--baseline=".length) ?? "4b77a87";
const MIB = 1024 * 1024;
const enc = new TextEncoder();

/** The baseline tree: a directory as given, or `git archive <commit>` into a temporary directory. */
async function baselineTree(): Promise<string> {
  try {
    if (Deno.statSync(arg).isDirectory) return arg;
  } catch { /* a commit */ }
  const dir = await Deno.makeTempDir({ prefix: "tom-abuse-base-" });
  const archive = new Deno.Command("git", { args: ["archive", arg], cwd: ROOT, stdout: "piped" }).spawn();
  const untar = new Deno.Command("tar", { args: ["-x", "-C", dir], stdin: "piped" }).spawn();
  await archive.stdout.pipeTo(untar.stdin);
  if (!(await archive.status).success || !(await untar.status).success) throw new Error(`git archive ${arg}`);
  return dir;
}

function memKiB(pid: number, field: "VmRSS" | "VmHWM"): number {
  const m = new RegExp(`${field}:\\s+(\\d+)`).exec(Deno.readTextFileSync(`/proc/${pid}/status`));
  return m ? Number(m[1]) : NaN;
}

interface Server {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

async function startServer(tree: string): Promise<Server> {
  const port = freePort();
  const data = await Deno.makeTempDir({ prefix: "tom-abuse-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(tree, "main.ts"), "serve"],
    cwd: tree,
    clearEnv: true,
    env: cleanEnv({
      TOM_DATA_DIR: data,
      TOM_HTTP_PORT: String(port),
      TOM_AUDIOSOCKET_PORT: String(freePort()),
      TOM_MANAGE_ENGINES: "false",
      TOM_STT_KIND: "none",
      TOM_LLM_KIND: "none",
      TOM_TTS_KIND: "none",
      TOM_ANSWER: "echo",
      TOM_RL_ANALYSIS: "false",
      TOM_LOG_HASH_SALT: "bench-salt",
      TOM_LOG_LEVEL: "error",
      TOM_FREESWITCH_ENABLED: "true",
      TOM_FREESWITCH_ESL_PORT: String(freePort()),
    }),
    stdout: "null",
    stderr: "null",
  }).spawn();
  for (let i = 0;; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      await r.body?.cancel();
      if (r.ok) break;
    } catch { /* not yet */ }
    if (i > 600) throw new Error("tom serve did not answer /healthz");
    await new Promise((r) => setTimeout(r, 100));
  }
  await fetch(`http://127.0.0.1:${port}/login`).then((r) => r.body?.cancel()); // warm the UI
  return {
    port,
    pid: child.pid,
    async stop() {
      child.kill("SIGKILL");
      await child.status;
      await Deno.remove(data, { recursive: true });
    },
  };
}

/** Write `total` bytes in `piece`-sized writes until done or the server stops reading (closed, or 5 s stalled). */
async function push(conn: Deno.Conn, total: number, piece: (i: number) => Uint8Array): Promise<number> {
  let sent = 0;
  for (let i = 0; sent < total; i++) {
    const chunk = piece(i);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ok = await Promise.race([
      conn.write(chunk).then(() => true, () => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 5000))),
    ]);
    clearTimeout(timer);
    if (!ok) break;
    sent += chunk.byteLength;
  }
  return sent;
}

async function firstLine(conn: Deno.Conn): Promise<string> {
  const buf = new Uint8Array(4096);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const n = await Promise.race([
    conn.read(buf).catch(() => null),
    new Promise<null>((r) => (timer = setTimeout(() => r(null), 3000))),
  ]);
  clearTimeout(timer);
  return n ? new TextDecoder().decode(buf.subarray(0, n)).split("\r\n")[0] : "(nothing)";
}

async function chunkedLogin(port: number): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(enc.encode(
    "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
      "Transfer-Encoding: chunked\r\n\r\n",
  ));
  const data = new Uint8Array(MIB).fill(0x61);
  const chunk = new Uint8Array([...enc.encode(`${MIB.toString(16)}\r\n`), ...data, ...enc.encode("\r\n")]);
  const reply = firstLine(conn);
  const sent = await push(conn, 256 * MIB, () => chunk);
  const line = await reply;
  try {
    conn.close();
  } catch { /* closed */ }
  return `sent ${Math.round(sent / MIB)} MiB, got "${line}"`;
}

async function wsOpen(port: number): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(enc.encode(
    "GET /ws/freeswitch HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
      "Sec-WebSocket-Protocol: audio.drachtio.org\r\n\r\n",
  ));
  const line = await firstLine(conn);
  if (!line.includes("101")) throw new Error(`No upgrade: ${line}`);
  return conn;
}

/** A masked client frame header (mask 0) for `length` payload bytes. */
function frameHeader(fin: boolean, opcode: number, length: number): Uint8Array {
  const h = new Uint8Array(14);
  h[0] = (fin ? 0x80 : 0) | opcode;
  h[1] = 0x80 | 127;
  new DataView(h.buffer).setBigUint64(2, BigInt(length));
  return h; // bytes 10..13: the zero mask
}

async function bigFrame(port: number): Promise<string> {
  const conn = await wsOpen(port);
  const size = 48 * MIB;
  const piece = new Uint8Array(MIB);
  const header = frameHeader(true, 2, size);
  const sent = await push(conn, size + header.byteLength, (i) => i === 0 ? header : piece);
  await new Promise((r) => setTimeout(r, 500));
  try {
    conn.close();
  } catch { /* closed */ }
  return `sent ${Math.round(sent / MIB)} of 48 MiB`;
}

async function fragments(port: number): Promise<string> {
  const conn = await wsOpen(port);
  const payload = new Uint8Array(MIB);
  const frame = (first: boolean) => new Uint8Array([...frameHeader(false, first ? 2 : 0, MIB), ...payload]);
  const first = frame(true);
  const rest = frame(false);
  const sent = await push(conn, 96 * first.byteLength, (i) => i === 0 ? first : rest);
  await new Promise((r) => setTimeout(r, 500));
  try {
    conn.close();
  } catch { /* closed */ }
  return `sent ${Math.round(sent / MIB)} of 96 MiB, never finished`;
}

async function slowloris(port: number): Promise<string> {
  const conns = await Promise.all(
    Array.from({ length: 200 }, () => Deno.connect({ hostname: "127.0.0.1", port })),
  );
  const open = new Set(conns);
  for (const c of conns) {
    c.write(enc.encode("GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n")).catch(() => open.delete(c));
    c.read(new Uint8Array(1024)).then(() => open.delete(c), () => open.delete(c)); // any reply or EOF
  }
  for (let s = 0; s < 15; s++) {
    await new Promise((r) => setTimeout(r, 1000));
    for (const c of open) c.write(enc.encode(`X-Slow-${s}: 1\r\n`)).catch(() => open.delete(c));
  }
  const still = open.size;
  for (const c of conns) {
    try {
      c.close();
    } catch { /* closed */ }
  }
  return `${still} of 200 still open after 15 s`;
}

const attacks: Array<[string, (port: number) => Promise<string>]> = [
  ["256 MiB chunked POST /login", chunkedLogin],
  ["one 48 MiB WebSocket frame", bigFrame],
  ["fragments to 96 MiB, unfinished", fragments],
  ["200 slowloris connections", slowloris],
];

const trees: Array<[string, string]> = [[`baseline (${arg})`, await baselineTree()], ["current tree", ROOT]];
const rows: string[][] = [];
for (const [name, attack] of attacks) {
  for (const [label, tree] of trees) {
    const server = await startServer(tree);
    try {
      const before = memKiB(server.pid, "VmRSS");
      const hwm0 = memKiB(server.pid, "VmHWM");
      const what = await attack(server.port).catch((e) => `failed: ${e instanceof Error ? e.message : e}`);
      await new Promise((r) => setTimeout(r, 1000));
      const after = memKiB(server.pid, "VmRSS");
      const peak = memKiB(server.pid, "VmHWM");
      const mib = (k: number) => (k / 1024).toFixed(0);
      rows.push([name, label, mib(before), mib(after), `${mib(peak)} (+${mib(peak - hwm0)})`, what]);
    } finally {
      await server.stop();
    }
  }
}
console.log("| attack | server | RSS before MiB | RSS after MiB | peak MiB (growth) | what happened |");
console.log("| --- | --- | --- | --- | --- | --- |");
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
