/**
 * 10,000 random and malformed messages on `/ws/asterisk` (garbage text, control messages with wrong or
 * missing fields in both formats, unknown formats, media of odd sizes before and after MEDIA_START,
 * marks nobody asked for, flow control out of place; a third from the shared hostile-JSON generator
 * in _fuzz.ts, mutating chan_websocket's own JSON messages) crash nothing: `/healthz` answers throughout, every
 * call that started also ended, and a proper call still works.
 */
import assert from "node:assert/strict";
import { echoAnswerer } from "../../../gateway/call/echo.ts";
import { FakeChanWebSocket, mediaStart, startAsteriskWsGateway } from "./websocket_client.ts";
import { assertCallsSettled, fuzzInRounds, fuzzMessages, seededRandom } from "../_fuzz.ts";

const TOTAL = 10_000;

function fuzzMessage(rnd: () => number, first: boolean): string | Uint8Array {
  const int = (n: number) => Math.floor(rnd() * n);
  const junk = () => String.fromCharCode(...Array.from({ length: int(60) }, () => int(0x2fff)));
  const any = (): unknown => [null, 1, -1e308, "", junk(), [], {}, true, { a: [junk()] }][int(9)];
  const formats = ["ulaw", "alaw", "slin", "slin16", "slin48", "slin192", "opus", "g722", "", junk()];
  const r = rnd();
  if (first && r < 0.5) {
    const [f, size] =
      [["ulaw", 160], ["alaw", 320], ["slin", 320], ["slin16", 640], ["slin48", 1920]][int(5)];
    return mediaStart(f as string, size as number, rnd() < 0.5);
  }
  if (first && r < 0.7) {
    const f = formats[int(formats.length)];
    const size = [160, 320, 640, 7680, 0, 1, 70000, int(2000)][int(8)];
    return rnd() < 0.8
      ? mediaStart(f, size, rnd() < 0.5)
      : JSON.stringify({ event: "MEDIA_START", format: any() });
  }
  if (r < 0.5) return Uint8Array.from({ length: [160, 640, 0, 1, 333, int(3000)][int(6)] }, () => int(256));
  const controls = [
    () => `DTMF_END digit:${"0123456789*#ABCDx"[int(17)]} channel_id:${junk()}`,
    () => JSON.stringify({ event: "DTMF_END", digit: rnd() < 0.5 ? "5" : any() }),
    () => `MEDIA_MARK_PROCESSED m${int(5)}`,
    () =>
      JSON.stringify({ event: "MEDIA_MARK_PROCESSED", correlation_id: rnd() < 0.5 ? `m${int(5)}` : any() }),
    () =>
      [
        "MEDIA_XOFF",
        "MEDIA_XON",
        "QUEUE_DRAINED",
        "STATUS queue_length:1",
        "MEDIA_BUFFERING_COMPLETED",
      ][int(5)],
    () => `ERROR channel_id:1 error_text:${junk()}`,
    () => mediaStart(formats[int(formats.length)], 160, rnd() < 0.5),
    () => junk(),
    () => JSON.stringify(any()),
    () => `${["MEDIA_START", "DTMF_END", "HANGUP", "x"][int(4)]} ${junk()}:${junk()}`,
  ];
  const t = controls[int(controls.length)]();
  return rnd() < 0.1 ? t.slice(0, int(t.length + 1)) : t;
}

Deno.test("10,000 random and malformed messages on /ws/asterisk crash nothing and /healthz answers throughout", async () => {
  const gw = await startAsteriskWsGateway({
    answer: echoAnswerer(),
    asterisk: { startTimeoutMs: 1000, maxInvalidMessages: 50 },
  });
  try {
    const rnd = seededRandom(0x5eed);
    const hostile = fuzzMessages({
      seed: 0x5eed,
      count: TOTAL,
      binaryShare: 0.2,
      templates: [
        JSON.parse(mediaStart("slin16", 640, true)),
        { event: "DTMF_END", channel_id: "1", digit: "5" },
        { event: "MEDIA_MARK_PROCESSED", channel_id: "1", correlation_id: "m1" },
        { event: "MEDIA_XOFF", channel_id: "1" },
      ],
    });
    let sent = 0;
    const connection = async () => {
      const ast = new FakeChanWebSocket(`${gw.ws}/ws/asterisk`);
      await ast.opened;
      const n = 20 + Math.floor(rnd() * 80);
      for (let i = 0; i < n && sent < TOTAL && ast.socket.readyState === WebSocket.OPEN; i++) {
        ast.send(i > 0 && rnd() < 0.33 ? hostile.next().value ?? "" : fuzzMessage(rnd, i === 0));
        sent++;
      }
      await ast.close();
    };
    const health = await fuzzInRounds(gw, () => sent >= TOTAL, connection);
    assert.ok(health > 10);
    const rows = await assertCallsSettled(gw);
    assert.ok(
      rows.reduce((n, r) => n + r.n, 0) > 20,
      `the fuzz also started calls: ${JSON.stringify(rows)} health ${health}`,
    );

    // A proper call still works.
    const ast = new FakeChanWebSocket(`${gw.ws}/ws/asterisk`);
    await ast.opened;
    ast.send(mediaStart());
    await ast.until(() => ast.commands.includes("MARK_MEDIA m1"), "the greeting");
    ast.send("DTMF_END digit:#");
    await ast.until(() => ast.commands.includes("HANGUP"), "HANGUP");
    await ast.close();
  } finally {
    await gw.close();
  }
});
