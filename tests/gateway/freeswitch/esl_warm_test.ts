/**
 * Warm transfer over the event socket (gateway/freeswitch/esl_warm.ts), against the ESL stand-in speaking
 * FreeSWITCH's documented messages: `bgapi originate` of the staff leg (its result in BACKGROUND_JOB, its
 * CHANNEL_ANSWER or CHANNEL_HANGUP), the briefing played on that leg with `uuid_broadcast` (PLAYBACK_STOP),
 * `uuid_bridge` (CHANNEL_BRIDGE), `uuid_kill` of a leg left over. What the people hear: the staff member hears
 * the briefing before the caller is put through; nobody answers: the caller is still with TOM, which notes a
 * callback.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { TransferOutcome, TransferTo } from "../../../gateway/call/contract.ts";
import { PIPELINE_RATE } from "../../../gateway/call/contract.ts";
import { EslClient } from "../../../gateway/freeswitch/esl.ts";
import { fsWarmTransfer, warmDialString } from "../../../gateway/freeswitch/esl_warm.ts";
import { createLogger } from "../../../infra/mod.ts";
import { type EslStandIn, type EslStandInOptions, startEslStandIn } from "../fixtures/fs_esl_server.ts";
import { startFsCalls } from "../fixtures/fs_calls.ts";

const log = createLogger({ salt: "s", level: "error", sink: () => {} });
const CALLER = "8d9b5c2e-6f1a-4c3b-9e7d-0a1b2c3d4e5f";
/** One second of the briefing's stand-in (what TTS would make of "Hier ist TOM ..."). */
const WORDS = new Int16Array(PIPELINE_RATE).fill(1000);
const briefing = {
  text: "Hier ist TOM. Ich verbinde Sie mit einem Anrufer.",
  audio: () => Promise.resolve(WORDS),
};
const EXT: TransferTo = { kind: "extension", target: "21", briefing };

async function withEsl(
  opts: EslStandInOptions,
  run: (esl: EslClient, fs: EslStandIn, dir: string) => Promise<void>,
): Promise<void> {
  const fs = startEslStandIn(opts);
  const esl = new EslClient({ host: "127.0.0.1", port: fs.port, password: "ClueCon", initialBackoffMs: 50 });
  const dir = await Deno.makeTempDir({ prefix: "tom-warm-" });
  try {
    esl.start();
    await esl.ready();
    await run(esl, fs, dir);
  } finally {
    await esl.close();
    await fs.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const warm = (esl: EslClient, dir: string, to: TransferTo, signal = AbortSignal.timeout(5000)) =>
  fsWarmTransfer(esl, CALLER, to, signal, {
    ringSeconds: 15,
    dialPrefix: "sofia/gateway/provider/",
    playbackDir: dir,
    log,
  });

/** The staff leg's uuid, from the originate TOM sent. */
function staffOf(fs: EslStandIn): string {
  const o = fs.commands.find((c) => c.command.startsWith("originate "));
  return /origination_uuid=([0-9a-f-]{36})/.exec(o?.command ?? "")?.[1] ?? "";
}

const index = (fs: EslStandIn, prefix: string) => fs.commands.findIndex((c) => c.command.startsWith(prefix));

Deno.test("FreeSWITCH warm transfer: originate the person, brief them, then uuid_bridge the caller -> answered", async () => {
  await withEsl({}, async (esl, fs, dir) => {
    const o = await warm(esl, dir, EXT);
    assert.deepEqual(o, { ok: true }, "the caller is put through, announced");
    const staff = staffOf(fs);
    const originate = fs.commands.find((c) => c.command.startsWith("originate "));
    assert.equal(originate?.kind, "bgapi");
    assert.equal(
      originate?.command,
      `originate {origination_uuid=${staff},originate_timeout=15,ignore_early_media=true,` +
        `hangup_after_bridge=true,origination_caller_id_name=TOM}user/21 &park()`,
    );
    // The staff member heard the briefing (one WAV of it on their leg), before the caller came.
    const told = fs.broadcasts.filter((b) => b.uuid === staff);
    assert.equal(told.length, 1, "the briefing was played on the staff leg");
    assert.ok((told[0].bytes?.length ?? 0) > 16000, "the whole second of the briefing is in the file");
    assert.ok(!fs.broadcasts.some((b) => b.uuid === CALLER), "the caller did not hear the briefing");
    assert.ok(index(fs, "uuid_broadcast") < index(fs, "uuid_bridge"), "briefed before the bridge");
    assert.equal(fs.variables.get(CALLER)?.hangup_after_bridge, "true");
    assert.ok(fs.commands.some((c) => c.command === `uuid_bridge ${CALLER} ${staff}`));
    assert.ok(!fs.commands.some((c) => c.command.startsWith("uuid_kill")), "nobody hung up");
    const left = [...Deno.readDirSync(dir)];
    assert.deepEqual(left, [], "the briefing's file (names, reasons) is removed");
  });
});

Deno.test("FreeSWITCH warm transfer: busy, no answer, unreachable -> the caller stays with TOM, nothing bridged", async () => {
  for (
    const [cause, reason] of [["USER_BUSY", "busy"], ["NO_ANSWER", "no_answer"], [
      "USER_NOT_REGISTERED",
      "unreachable",
    ]]
  ) {
    await withEsl({ originateCause: () => cause }, async (esl, fs, dir) => {
      const o = await warm(esl, dir, EXT);
      assert.equal(!o.ok && o.reason, reason, JSON.stringify(o));
      assert.equal(fs.broadcasts.length, 0, "no briefing without an answer");
      assert.equal(index(fs, "uuid_bridge"), -1, "the caller was not moved: TOM still has them");
      assert.equal(index(fs, "uuid_kill"), -1, "no leg left to hang up");
    });
  }
});

Deno.test("FreeSWITCH warm transfer: a number goes through the dial prefix; voicemail and injection have no warm leg", () => {
  const p = "sofia/gateway/provider/";
  assert.equal(
    warmDialString({ kind: "number", target: "030 123-456" }, p),
    "sofia/gateway/provider/030123456",
  );
  assert.equal(warmDialString({ kind: "extension", target: "21" }, p), "user/21");
  assert.equal(warmDialString({ kind: "voicemail", target: "100" }, p), undefined);
  assert.equal(warmDialString({ kind: "extension", target: "21 &bridge(x)" }, p), undefined);
  assert.equal(warmDialString({ kind: "number", target: "0301" }, "sofia/gw x}"), undefined);
});

Deno.test("FreeSWITCH warm transfer: the person hangs up during the briefing -> failed, the caller stays with TOM", async () => {
  let staff = "";
  const fs0: { fs?: EslStandIn } = {};
  await withEsl({
    playbackSpeed: 1,
    onApi: (cmd) => {
      if (!cmd.startsWith("uuid_broadcast ")) return undefined;
      staff = cmd.split(" ")[1];
      setTimeout(
        () =>
          fs0.fs?.emit({
            "Event-Name": "CHANNEL_HANGUP",
            "Unique-ID": staff,
            "Hangup-Cause": "NORMAL_CLEARING",
          }),
        20,
      );
      return "+OK Message queued\n";
    },
  }, async (esl, fs, dir) => {
    fs0.fs = fs;
    const o = await warm(esl, dir, EXT);
    assert.equal(!o.ok && o.reason, "failed", JSON.stringify(o));
    assert.equal(index(fs, "uuid_bridge"), -1, "the caller is not bridged to a line nobody is on");
    assert.ok(fs.commands.some((c) => c.command === `uuid_kill ${staff}`));
  });
});

Deno.test("FreeSWITCH warm transfer: nobody answers before TOM's bound -> timeout, the ringing leg is hung up", async () => {
  // The originate is still ringing when TOM stops waiting; FreeSWITCH ends the job once the leg is killed.
  let ring: (r: string) => void = () => {};
  const ringing = new Promise<string>((r) => (ring = r));
  await withEsl(
    { onBgapi: (cmd) => cmd.startsWith("originate ") ? ringing : undefined },
    async (esl, fs, dir) => {
      const o = await warm(esl, dir, EXT, AbortSignal.timeout(200));
      assert.equal(!o.ok && o.reason, "timeout");
      assert.ok(fs.commands.some((c) => c.command === `uuid_kill ${staffOf(fs)}`), "the phone stops ringing");
      assert.equal(index(fs, "uuid_bridge"), -1);
      ring("-ERR ORIGINATOR_CANCEL\n");
    },
  );
});

Deno.test("FreeSWITCH warm transfer: a briefing that cannot be made -> the caller is put through unannounced", async () => {
  const failing = { text: "x", audio: () => Promise.reject(new Error("TTS down")) };
  await withEsl({}, async (esl, fs, dir) => {
    const o = await warm(esl, dir, { ...EXT, briefing: failing });
    assert.deepEqual(o, { ok: true });
    assert.equal(fs.broadcasts.length, 0, "nothing to play");
    assert.ok(index(fs, "uuid_bridge") >= 0);
  });
});

Deno.test("FreeSWITCH call output with TOM_FREESWITCH_WARM_TRANSFER: briefed, bridged, TOM lets go; voicemail stays cold", async () => {
  const h = await startFsCalls({
    onApi: (cmd) =>
      cmd.startsWith("uuid_audio_fork ") || cmd.startsWith("uuid_transfer ") ? "+OK\n" : undefined,
  }, { TOM_FREESWITCH_WARM_TRANSFER: "true" });
  try {
    const a = await h.call();
    assert.ok(a.ctx.output.transfer, "the FreeSWITCH output can transfer");
    // The signal the call desk passes (pipeline/call_desk.ts): the call's own, which the bridge itself aborts
    // (TOM lets the caller go), plus the transfer's bound. The bridged person and caller stay connected.
    const signal = AbortSignal.any([a.ctx.signal, AbortSignal.timeout(5000)]);
    const o: TransferOutcome = await a.ctx.output.transfer(EXT, signal);
    assert.deepEqual(o, { ok: true });
    await a.fork.closed;
    await h.fs.waitFor((c) => c.command === `uuid_audio_fork ${a.uuid} stop`);
    assert.deepEqual(h.stops, ["transferred to a person"]);
    assert.ok(h.fs.commands.some((c) => c.command === `uuid_bridge ${a.uuid} ${staffOf(h.fs)}`));
    assert.equal(h.fs.broadcasts.filter((b) => b.uuid === staffOf(h.fs)).length, 1, "the person was briefed");
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(
      !h.fs.commands.some((c) => c.command.startsWith("uuid_kill")),
      "nobody is hung up after the bridge",
    );

    const b = await h.call();
    await b.ctx.output.transfer?.({ kind: "voicemail", target: "100" }, AbortSignal.timeout(300));
    assert.ok(
      h.fs.commands.some((c) => c.command.startsWith(`uuid_transfer ${b.uuid} *99100 `)),
      "voicemail: cold",
    );
    b.ctx.output.hangup("test over");
    await b.fork.closed;
  } finally {
    await h.close();
  }
});
