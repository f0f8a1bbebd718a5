/**
 * WebSocket messages over `gateway.maxFrameBytes` are refused from the frame header, before TOM buffers
 * them: a peer announcing a 48 MiB frame, or sending fragments past the cap without ever finishing the
 * message, gets close 1009 while it has sent only a little (raw frames over TCP, so nothing on the
 * client side buffers either). Also on /ws/freeswitch from an allowed peer.
 */
import assert from "node:assert/strict";
import { metricValue, startGateway } from "./server_harness.ts";
import { mountFreeswitch } from "../../gateway/freeswitch/fork.ts";

const enc = new TextEncoder();

/** A masked client frame header (zero mask, so the payload goes as is). */
function header(fin: boolean, opcode: number, length: number): Uint8Array {
  const h = new Uint8Array(14);
  h[0] = (fin ? 0x80 : 0) | opcode;
  h[1] = 0x80 | 127;
  new DataView(h.buffer).setBigUint64(2, BigInt(length));
  return h;
}

/** Open a WebSocket over raw TCP; returns the connection after the 101. */
async function open(port: number, path: string, protocol?: string): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(enc.encode(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
      (protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : "") + "\r\n",
  ));
  const buf = new Uint8Array(4096);
  const n = await conn.read(buf);
  const head = new TextDecoder().decode(buf.subarray(0, n ?? 0));
  assert.match(head, /^HTTP\/1\.1 101/, head);
  return conn;
}

/**
 * The close code of the first close frame the server sends (frames before it are skipped), or undefined
 * when the connection ends without one. Fails after 10 s: a server still waiting for the payload.
 */
async function closeCode(conn: Deno.Conn): Promise<number | undefined> {
  let data = new Uint8Array(0);
  const buf = new Uint8Array(65536);
  const timer = setTimeout(() => conn.close(), 10_000);
  try {
    for (;;) {
      while (data.length >= 2) {
        let len = data[1] & 0x7f;
        let at = 2;
        if (len === 126) [len, at] = [(data[2] << 8) | data[3], 4];
        else if (len === 127) {
          [len, at] = [Number(new DataView(data.buffer, data.byteOffset).getBigUint64(2)), 10];
        }
        if (data.length < at + len) break;
        if ((data[0] & 0x0f) === 0x8) return len >= 2 ? (data[at] << 8) | data[at + 1] : 1005;
        data = data.slice(at + len);
      }
      const n = await conn.read(buf).catch(() => null);
      if (n === null) return undefined;
      data = new Uint8Array([...data, ...buf.subarray(0, n)]);
    }
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

Deno.test("a frame announcing 48 MiB is closed with 1009 after 1 KiB of it, not after buffering it", async () => {
  const h = await startGateway({
    transports: [(app, deps, guard) => mountFreeswitch(app, deps, guard)],
    env: { TOM_FREESWITCH_ENABLED: "true" },
  });
  try {
    const conn = await open(h.port, "/ws/freeswitch", "audio.drachtio.org");
    await conn.write(header(true, 2, 48 * 1024 * 1024));
    await conn.write(new Uint8Array(1024)).catch(() => {});
    assert.equal(await closeCode(conn), 1009);
    assert.equal(
      metricValue(await h.metrics(), "tom_gateway_oversize_total", { transport: "freeswitch" }),
      1,
    );
  } finally {
    await h.close();
  }
});

Deno.test("a fragmented message that passes 64 KiB without finishing is closed with 1009", async () => {
  const h = await startGateway();
  try {
    const conn = await open(h.port, `/ws/stream/frag-1?token=${await h.token("frag-1")}`);
    const piece = new Uint8Array(16 * 1024);
    for (let i = 0; i < 6; i++) {
      const ok = await conn.write(new Uint8Array([...header(false, i === 0 ? 2 : 0, piece.length), ...piece]))
        .then(() => true, () => false);
      if (!ok) break;
    }
    assert.equal(await closeCode(conn), 1009);
    assert.equal(metricValue(await h.metrics(), "tom_gateway_oversize_total", { transport: "browser" }), 1);
  } finally {
    await h.close();
  }
});
