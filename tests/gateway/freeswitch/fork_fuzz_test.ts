/**
 * 10,000 random and malformed messages on `/ws/freeswitch` (garbage text and bytes, broken and
 * half-valid metadata, odd and empty binary frames, valid calls interrupted by junk) crash nothing:
 * `/healthz` answers throughout, every call that started also ended, and a proper call still works
 * afterwards.
 */
import assert from "node:assert/strict";
import { echoAnswerer } from "../../../gateway/call/echo.ts";
import { type FreeswitchTransport, mountFreeswitch } from "../../../gateway/freeswitch/fork.ts";
import { startGateway } from "../server_harness.ts";
import { assertCallsSettled, fuzzInRounds } from "../_fuzz.ts";
import { startEslStandIn } from "../fixtures/fs_esl_server.ts";
import { AudioForkClient } from "../fixtures/fs_audio_fork_client.ts";

const TOTAL = 10_000;

/** A small seeded PRNG (mulberry32), so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fuzzMessage(rnd: () => number, first: boolean): string | Uint8Array {
  const int = (n: number) => Math.floor(rnd() * n);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => int(256));
  const junk = () => String.fromCharCode(...Array.from({ length: int(60) }, () => int(0x2fff)));
  const uuid = () => (rnd() < 0.8 ? crypto.randomUUID() : junk());
  const metas: (() => unknown)[] = [
    () => ({ uuid: uuid(), rate: [8000, 16000, 11025, "8k", "16k", -1, 1e30, null][int(8)], mix: "stereo" }),
    () => ({ uuid: uuid(), mix: ["mono", "mixed", "stereo", "quad", 3][int(5)] }),
    () => ({
      event: "start",
      start: { customParameters: { uuid: uuid() }, mediaFormat: { sampleRate: 8000 } },
    }),
    () => ({ uuid: uuid(), tom_call_id: junk(), tom_account_id: uuid(), caller: junk() }),
    () => [uuid()],
    () => ({ uuid: { nested: [1, 2, { deeper: true }] } }),
    () => "x".repeat(int(5000)),
  ];
  const r = rnd();
  if (first && r < 0.6) {
    const m = metas[int(metas.length)]();
    const text = JSON.stringify(m);
    return rnd() < 0.15 ? text.slice(0, int(text.length)) : text; // sometimes truncated
  }
  if (r < 0.55) return bytes([0, 1, 2, 3, 319, 320, 321, 640, 1283, 4000][int(10)]);
  if (r < 0.75) return junk();
  if (r < 0.85) {
    return JSON.stringify({ type: ["playAudio", "killAudio", "disconnect", "transcription"][int(4)] });
  }
  return JSON.stringify(metas[int(metas.length)]());
}

Deno.test("10,000 random and malformed messages on /ws/freeswitch crash nothing and /healthz answers throughout", async () => {
  const esl = startEslStandIn({ playbackSpeed: 0 });
  let fs: FreeswitchTransport | undefined;
  const gw = await startGateway({
    answer: echoAnswerer(),
    env: { TOM_FREESWITCH_ESL_PORT: String(esl.port) },
    transports: [(app, deps, guard) => (fs = mountFreeswitch(app, deps, guard, { metadataTimeoutMs: 2000 }))],
  });
  try {
    await fs?.esl.ready();
    const rnd = prng(0x70d);
    let sent = 0;
    const connection = async () => {
      const fork = new AudioForkClient(`${gw.ws}/ws/freeswitch`);
      await fork.opened;
      const n = 20 + Math.floor(rnd() * 80); // below the token bucket's burst, mostly
      for (let i = 0; i < n && sent < TOTAL && fork.socket.readyState === WebSocket.OPEN; i++) {
        fork.socket.send(fuzzMessage(rnd, i === 0));
        sent++;
      }
      fork.close();
      await fork.closed;
    };
    const health = await fuzzInRounds(gw, () => sent >= TOTAL, connection);
    assert.ok(sent >= TOTAL);
    assert.ok(health > 10);
    const rows = await assertCallsSettled(gw);
    assert.ok(rows.reduce((n, r) => n + r.n, 0) > 20, "the fuzz also started calls");

    // And a proper call still works.
    const fork = new AudioForkClient(`${gw.ws}/ws/freeswitch`);
    await fork.opened;
    const uuid = crypto.randomUUID();
    fork.metadata({ uuid, rate: 16000, mix: "mono" });
    await esl.waitFor((c) => c.command.startsWith(`uuid_broadcast ${uuid} `));
    fork.close();
    await fork.closed;
  } finally {
    await gw.close();
    await esl.close();
  }
});
