// The front door of the real appliance (`startAppliance`, in-process, echo answering stage, no engines)
// against exhaustion: a client pushing a huge chunked body to the login form gets 413 and its connection
// is closed long before it sent everything; a client that never finishes its request headers is cut off
// after the configured header timeout (here 1 s).
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../infra/config.ts";
import { type Appliance, startAppliance } from "../../app/serve.ts";
import { freePort } from "../_helpers.ts";

const MIB = 1024 * 1024;
const enc = new TextEncoder();

async function withAppliance(fn: (app: Appliance) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tom-front-door-" });
  const config = loadConfig({
    env: {
      HOME: dir,
      TOM_DATA_DIR: join(dir, "data"),
      TOM_ENGINES_DIR: join(dir, "engines"),
      TOM_HTTP_PORT: String(freePort()),
      TOM_HTTP_HEADERS_TIMEOUT_SECONDS: "1",
      TOM_AUDIOSOCKET_PORT: String(freePort()),
      TOM_MANAGE_ENGINES: "false",
      TOM_STT_KIND: "none",
      TOM_LLM_KIND: "none",
      TOM_TTS_KIND: "none",
      TOM_ANSWER: "echo",
      TOM_RL_ANALYSIS: "false",
      TOM_LOG_LEVEL: "error",
    },
    cwd: dir,
  });
  const app = await startAppliance(config);
  try {
    await fn(app);
  } finally {
    await app.shutdown("test");
    await Deno.remove(dir, { recursive: true });
  }
}

/** Everything the server sends until it closes the connection. */
async function readAll(conn: Deno.Conn): Promise<string> {
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(64 * 1024);
  for (;;) {
    const n = await conn.read(buf).catch(() => null);
    if (n === null) break;
    parts.push(buf.slice(0, n));
  }
  return new TextDecoder().decode(new Uint8Array(parts.flatMap((p) => [...p])));
}

Deno.test({
  name: "a 256 MiB chunked login form gets 413 with a German message and the server stops reading it",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withAppliance(async (app) => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: app.addr.port });
      await conn.write(enc.encode(
        "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
          "Transfer-Encoding: chunked\r\n\r\n",
      ));
      const reply = readAll(conn);
      const chunk = new Uint8Array([
        ...enc.encode(`${MIB.toString(16)}\r\n`),
        ...new Uint8Array(MIB).fill(0x61),
        ...enc.encode("\r\n"),
      ]);
      let sent = 0;
      while (sent < 256) {
        // A write that fails or stalls for 5 s: the server has stopped reading.
        let timer: ReturnType<typeof setTimeout> | undefined;
        const ok = await Promise.race([
          conn.write(chunk).then(() => true, () => false),
          new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 5000))),
        ]);
        clearTimeout(timer);
        if (!ok) break;
        sent++;
      }
      const text = await reply;
      try {
        conn.close();
      } catch { /* closed by the server */ }
      assert.ok(sent < 256, `the server read all ${sent} MiB`);
      assert.match(text, /^HTTP\/1\.1 413/);
      assert.match(text, /Inhalt zu groß: mindestens \d+ Bytes, erlaubt sind höchstens 1048576 Bytes/);
    });
  },
});

Deno.test({
  name: "a client that never finishes its request headers is disconnected after the header timeout",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await withAppliance(async (app) => {
      const conns = await Promise.all(
        Array.from({ length: 20 }, () => Deno.connect({ hostname: "127.0.0.1", port: app.addr.port })),
      );
      await Promise.all(conns.map((c) => c.write(enc.encode("GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"))));
      // Every connection ends on the server's side (a 408, then EOF); without a header timeout this read
      // would wait forever (the test's own limit is only a guard against hanging).
      let guard: ReturnType<typeof setTimeout> | undefined;
      const replies = await Promise.race([
        Promise.all(conns.map(readAll)),
        new Promise<undefined>((r) => (guard = setTimeout(() => r(undefined), 30_000))),
      ]);
      clearTimeout(guard);
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      assert.ok(replies, "the connections were still open");
      for (const r of replies) assert.ok(r === "" || r.startsWith("HTTP/1.1 408"), r);
    });
  },
});
