/**
 * 10,000 random and malformed AudioSocket messages (every kind, wrong and oversize lengths, garbage,
 * truncated messages, audio of odd sizes and rates, written in random splits) crash nothing: `/healthz`
 * answers throughout, every call that started also ended, and a proper call still works.
 */
import assert from "node:assert/strict";
import { echoAnswerer } from "../../../gateway/call/echo.ts";
import { encodeMessage, KIND, uuidBytes } from "../../../gateway/asterisk/audiosocket_wire.ts";
import { FakeAsterisk, msg, startAudioSocketGateway } from "./audiosocket_client.ts";
import { seededRandom } from "../_fuzz.ts";

const TOTAL = 10_000;

function fuzzMessage(rnd: () => number, first: boolean): Uint8Array {
  const int = (n: number) => Math.floor(rnd() * n);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => int(256));
  const uuid = () => uuidBytes(crypto.randomUUID());
  const r = rnd();
  if (first && r < 0.7) return encodeMessage(KIND.uuid, uuid());
  if (r < 0.45) {
    // Audio of every slin kind, mostly 20 ms, sometimes odd, empty or over the limit.
    const kind = 0x10 + int(9);
    const size = [320, 640, 24, 0, 1, 333, 2 * int(4000), 7680][int(8)];
    return encodeMessage(kind, bytes(Math.min(size, 0xffff)));
  }
  if (r < 0.55) {
    return encodeMessage(
      KIND.dtmf,
      rnd() < 0.7 ? new TextEncoder().encode("0123456789*#ABCDx"[int(17)]) : bytes(int(3)),
    );
  }
  if (r < 0.6) return encodeMessage(KIND.uuid, rnd() < 0.5 ? uuid() : bytes(int(40)));
  if (r < 0.63) return encodeMessage(KIND.error, bytes(int(3)));
  if (r < 0.64) return encodeMessage(KIND.hangup);
  if (r < 0.74) {
    // A header that lies: any kind, any length, and whatever payload.
    const head = new Uint8Array([int(256), int(256), int(256)]);
    const body = bytes(int(50));
    const out = new Uint8Array(3 + body.length);
    out.set(head);
    out.set(body, 3);
    return out;
  }
  if (r < 0.84) return bytes(1 + int(100)); // garbage
  const whole = encodeMessage(0x10, bytes(320));
  return whole.subarray(0, int(whole.length)); // truncated
}

Deno.test("10,000 random and malformed AudioSocket messages crash nothing and /healthz answers throughout", async () => {
  const gw = await startAudioSocketGateway({ answer: echoAnswerer(), audioSocket: { uuidTimeoutMs: 500 } });
  try {
    const rnd = seededRandom(0xa5a5);
    let sent = 0;
    let health = 0;
    const port = gw.audioSocket.addr.port;
    const connection = async () => {
      const ast = await FakeAsterisk.connect(port);
      const n = 20 + Math.floor(rnd() * 80);
      const parts: Uint8Array[] = [];
      for (let i = 0; i < n && sent < TOTAL; i++, sent++) parts.push(fuzzMessage(rnd, i === 0));
      const stream = new Uint8Array(parts.reduce((k, p) => k + p.length, 0));
      let at = 0;
      for (const p of parts) {
        stream.set(p, at);
        at += p.length;
      }
      // Written in random splits, as TCP may deliver it.
      for (let i = 0; i < stream.length && !ast.ended;) {
        const take = 1 + Math.floor(rnd() * 600);
        await ast.send(stream.subarray(i, i + take));
        i += take;
      }
      await ast.close();
    };
    while (sent < TOTAL) {
      await Promise.all([connection(), connection(), connection(), connection()]);
      const res = await fetch(`${gw.http}/healthz`);
      assert.equal(res.status, 200);
      await res.body?.cancel();
      health++;
    }
    assert.ok(health > 10);
    const deadline = Date.now() + 5000;
    while (gw.calls.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(gw.calls.size, 0, "every call that started has ended");
    assert.equal(gw.audioSocket.size, 0, "every connection is closed");
    const rows = gw.store.db.prepare("SELECT status, count(*) AS n FROM calls GROUP BY status").all() as {
      status: string;
      n: number;
    }[];
    assert.ok(
      rows.reduce((n, r) => n + r.n, 0) > 20,
      `the fuzz also started calls: ${JSON.stringify(rows)} health ${health}`,
    );
    assert.ok(rows.every((r) => r.status === "completed" || r.status === "failed"), JSON.stringify(rows));

    // A proper call still works.
    const ast = await FakeAsterisk.connect(port);
    await ast.send(msg.uuid(crypto.randomUUID()));
    await ast.until(() => ast.audio.length >= 5, "greeting frames");
    await ast.send(msg.dtmf("#"));
    await ast.closed;
    assert.ok(ast.hungUp);
  } finally {
    await gw.close();
  }
});
