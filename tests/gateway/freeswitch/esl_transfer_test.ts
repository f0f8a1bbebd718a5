/**
 * Cold transfer over the event socket, against the ESL stand-in speaking FreeSWITCH's documented messages:
 * `api uuid_transfer` answered by `+OK`/`-ERR`, then CHANNEL_BRIDGE, CHANNEL_EXECUTE(_COMPLETE) and
 * CHANNEL_HANGUP events (delivered only when the client subscribed to them, as FreeSWITCH does).
 *
 * @module
 */
import assert from "node:assert/strict";
import type { TransferOutcome, TransferTo } from "../../../gateway/call/contract.ts";
import { EslClient } from "../../../gateway/freeswitch/esl.ts";
import { fsTransfer, fsTransferTarget } from "../../../gateway/freeswitch/esl_transfer.ts";
import { type EslStandIn, startEslStandIn } from "../fixtures/fs_esl_server.ts";
import { startFsCalls } from "../fixtures/fs_calls.ts";

const CFG = { context: "default", voicemailPrefix: "*99" };
const EXT: TransferTo = { kind: "extension", target: "21" };

/** A stand-in whose `uuid_transfer` answers `reply` and then plays `after` (events for the channel). */
async function withEsl(
  reply: string,
  after: (fs: EslStandIn, uuid: string) => void,
  run: (esl: EslClient, fs: EslStandIn, uuid: string) => Promise<void>,
): Promise<void> {
  const uuid = crypto.randomUUID();
  const fs: EslStandIn = startEslStandIn({
    onApi: (cmd) => {
      if (!cmd.startsWith("uuid_transfer ")) return undefined;
      setTimeout(() => after(fs, uuid), 5);
      return reply;
    },
  });
  const esl = new EslClient({ host: "127.0.0.1", port: fs.port, password: "ClueCon", initialBackoffMs: 50 });
  try {
    esl.start();
    await esl.ready();
    await run(esl, fs, uuid);
  } finally {
    await esl.close();
    await fs.close();
  }
}

function bLegHangup(fs: EslStandIn, uuid: string, cause: string): void {
  fs.emit({
    "Event-Name": "CHANNEL_HANGUP",
    "Unique-ID": crypto.randomUUID(),
    "Other-Type": "originator",
    "Other-Leg-Unique-ID": uuid,
    "Hangup-Cause": cause,
  });
}

function bridgeDone(fs: EslStandIn, uuid: string, disposition?: string): void {
  fs.emit({
    "Event-Name": "CHANNEL_EXECUTE_COMPLETE",
    "Unique-ID": uuid,
    "Application": "bridge",
    "Application-Data": "user/21@127.0.0.1",
    "Application-Response": "_none_",
    ...(disposition ? { "variable_originate_disposition": disposition } : {}),
  });
}

async function timed(p: Promise<TransferOutcome>): Promise<TransferOutcome> {
  const t0 = performance.now();
  const o = await p;
  console.log(`  outcome ${JSON.stringify(o)} after ${(performance.now() - t0).toFixed(1)} ms`);
  return o;
}

Deno.test("FreeSWITCH transfer: uuid_transfer to the extension in the context; CHANNEL_BRIDGE confirms it", async () => {
  await withEsl("+OK\n", (fs, uuid) => {
    // The channel runs the new extension, rings the person, who answers: bridged.
    fs.emit({ "Event-Name": "CHANNEL_EXECUTE", "Unique-ID": uuid, "Application": "bridge" });
    fs.emit({
      "Event-Name": "CHANNEL_BRIDGE",
      "Unique-ID": uuid,
      "Other-Leg-Unique-ID": crypto.randomUUID(),
    });
  }, async (esl, fs, uuid) => {
    const o = await timed(fsTransfer(esl, uuid, EXT, AbortSignal.timeout(5000), CFG));
    assert.deepEqual(o, { ok: true });
    const cmd = fs.commands.find((c) => c.command.startsWith("uuid_transfer"));
    assert.equal(cmd?.kind, "api");
    assert.equal(cmd?.command, `uuid_transfer ${uuid} 21 XML default`);
  });
});

Deno.test("FreeSWITCH transfer: -ERR from uuid_transfer is failed with FreeSWITCH's reason", async () => {
  await withEsl("-ERR No such channel!\n", () => {}, async (esl, _fs, uuid) => {
    const o = await timed(fsTransfer(esl, uuid, EXT, AbortSignal.timeout(5000), CFG));
    assert.deepEqual(o, { ok: false, reason: "failed", detail: "uuid_transfer: No such channel!" });
  });
});

Deno.test("FreeSWITCH transfer: a busy target (USER_BUSY) and one that does not answer (NO_ANSWER) come back", async () => {
  await withEsl("+OK\n", (fs, uuid) => {
    bLegHangup(fs, uuid, "USER_BUSY");
    bridgeDone(fs, uuid, "USER_BUSY");
  }, async (esl, _fs, uuid) => {
    const o = await timed(fsTransfer(esl, uuid, EXT, AbortSignal.timeout(5000), CFG));
    assert.deepEqual(o, { ok: false, reason: "busy", detail: "bridge: USER_BUSY" });
  });
  // Without originate_disposition the rung leg's Hangup-Cause decides.
  await withEsl("+OK\n", (fs, uuid) => {
    bLegHangup(fs, uuid, "NO_ANSWER");
    bridgeDone(fs, uuid);
  }, async (esl, _fs, uuid) => {
    const o = await timed(fsTransfer(esl, uuid, EXT, AbortSignal.timeout(5000), CFG));
    assert.deepEqual(o, { ok: false, reason: "no_answer", detail: "bridge: NO_ANSWER" });
  });
});

Deno.test("FreeSWITCH transfer: no route (the caller's channel hangs up) is unreachable; a ring group's busy leg decides nothing", async () => {
  await withEsl("+OK\n", (fs, uuid) => {
    fs.emit({ "Event-Name": "CHANNEL_HANGUP", "Unique-ID": uuid, "Hangup-Cause": "NO_ROUTE_DESTINATION" });
  }, async (esl, _fs, uuid) => {
    const o = await timed(fsTransfer(esl, uuid, EXT, AbortSignal.timeout(5000), CFG));
    assert.deepEqual(o, {
      ok: false,
      reason: "unreachable",
      detail: "caller's channel ended: NO_ROUTE_DESTINATION",
    });
  });
  await withEsl("+OK\n", (fs, uuid) => {
    bLegHangup(fs, uuid, "USER_BUSY");
    fs.emit({ "Event-Name": "CHANNEL_BRIDGE", "Unique-ID": uuid });
  }, async (esl, _fs, uuid) => {
    assert.deepEqual(await fsTransfer(esl, uuid, EXT, AbortSignal.timeout(5000), CFG), { ok: true });
  });
});

Deno.test("FreeSWITCH transfer: voicemail goes to *99<box> and is confirmed when the voicemail application runs", async () => {
  await withEsl("+OK\n", (fs, uuid) => {
    fs.emit({ "Event-Name": "CHANNEL_EXECUTE", "Unique-ID": uuid, "Application": "answer" });
    fs.emit({ "Event-Name": "CHANNEL_EXECUTE", "Unique-ID": uuid, "Application": "voicemail" });
  }, async (esl, fs, uuid) => {
    const to: TransferTo = { kind: "voicemail", target: "21" };
    assert.deepEqual(await fsTransfer(esl, uuid, to, AbortSignal.timeout(5000), CFG), { ok: true });
    assert.ok(fs.commands.some((c) => c.command === `uuid_transfer ${uuid} *9921 XML default`));
  });
});

Deno.test("FreeSWITCH transfer: without an outcome before the signal it is timeout; events of other channels are ignored", async () => {
  await withEsl("+OK\n", (fs) => {
    fs.emit({ "Event-Name": "CHANNEL_BRIDGE", "Unique-ID": crypto.randomUUID() });
    fs.emit({
      "Event-Name": "CHANNEL_HANGUP",
      "Unique-ID": crypto.randomUUID(),
      "Hangup-Cause": "USER_BUSY",
    });
  }, async (esl, _fs, uuid) => {
    const o = await timed(fsTransfer(esl, uuid, EXT, AbortSignal.timeout(300), CFG));
    assert.equal(o.ok, false);
    assert.equal(!o.ok && o.reason, "timeout");
  });
});

Deno.test("FreeSWITCH transfer: the event socket down is failed at once, nothing sent", async () => {
  const fs = startEslStandIn();
  const port = fs.port;
  await fs.close();
  const esl = new EslClient({ host: "127.0.0.1", port, password: "ClueCon", initialBackoffMs: 50 });
  esl.start();
  try {
    const o = await timed(fsTransfer(esl, crypto.randomUUID(), EXT, AbortSignal.timeout(5000), CFG));
    assert.deepEqual(o, { ok: false, reason: "failed", detail: "FreeSWITCH event socket not connected" });
  } finally {
    await esl.close();
  }
});

Deno.test("FreeSWITCH transfer targets: numbers lose their separators; anything that could inject is refused", () => {
  assert.equal(fsTransferTarget({ kind: "number", target: "030 / 123 45-6" }, CFG), "030123456");
  assert.equal(fsTransferTarget({ kind: "number", target: "+49 (30) 1234" }, CFG), "+49301234");
  assert.equal(fsTransferTarget({ kind: "extension", target: " 21 " }, CFG), "21");
  assert.equal(fsTransferTarget({ kind: "extension", target: "21 XML public" }, CFG), undefined);
  assert.equal(fsTransferTarget({ kind: "extension", target: "21\nauth x" }, CFG), undefined);
  assert.equal(fsTransferTarget({ kind: "number", target: "" }, CFG), undefined);
  assert.equal(fsTransferTarget({ kind: "voicemail", target: "" }, CFG), undefined);
});

Deno.test("FreeSWITCH call output: transfer, then TOM stops its fork and the call ends for TOM without uuid_kill; a late bridge too", async () => {
  let late = false;
  const emit: { fs?: EslStandIn } = {};
  const h = await startFsCalls({
    onApi: (cmd) => {
      const [verb, uuid] = cmd.split(" ");
      if (verb === "uuid_transfer") {
        if (late) return "+OK\n";
        setTimeout(() => emit.fs?.emit({ "Event-Name": "CHANNEL_BRIDGE", "Unique-ID": uuid }), 5);
        return "+OK\n";
      }
      return verb === "uuid_audio_fork" ? "+OK Success\n" : undefined;
    },
  }, { TOM_FREESWITCH_TRANSFER_CONTEXT: "praxis" });
  const fs = emit.fs = h.fs;
  try {
    const { fork, uuid, ctx } = await h.call();
    assert.ok(ctx.output.transfer, "the FreeSWITCH output can transfer");
    const o = await timed(ctx.output.transfer(EXT, AbortSignal.timeout(5000)));
    assert.deepEqual(o, { ok: true });
    await fork.closed;
    await fs.waitFor((c) => c.command === `uuid_audio_fork ${uuid} stop`);
    assert.ok(fs.commands.some((c) => c.command === `uuid_transfer ${uuid} 21 XML praxis`));
    assert.deepEqual(h.stops, ["transferred to a person"]);
    ctx.output.hangup("late hang-up");
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(!fs.commands.some((c) => c.command.startsWith("uuid_kill")), "the caller is not hung up");

    // A transfer whose person answers only after TOM stopped waiting: the bridge still makes TOM let go.
    h.stops.length = 0;
    late = true;
    const second = await h.call();
    assert.ok(second.ctx.output.transfer);
    const o2 = await timed(second.ctx.output.transfer(EXT, AbortSignal.timeout(200)));
    assert.equal(!o2.ok && o2.reason, "timeout");
    fs.emit({ "Event-Name": "CHANNEL_BRIDGE", "Unique-ID": second.uuid });
    await second.fork.closed;
    await fs.waitFor((c) => c.command === `uuid_audio_fork ${second.uuid} stop`);
    assert.deepEqual(h.stops, ["transferred to a person"]);
  } finally {
    await h.close();
  }
});
