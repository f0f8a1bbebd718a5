/**
 * Warm transfer over AMI (gateway/asterisk/ami_warm.ts) with the real AMI client against a local stand-in
 * that speaks the documented AMI framing: the exact `Originate` TOM sends (Local channel of the target's
 * extension, async, Timeout in ms, ChannelId, the two variables in one `Variable` header), the correlation of
 * `OriginateResponse` by `ActionID` (also when it arrives in the same TCP write as the response), the staff
 * leg taken once by its warm id, the bridge of both channels, no answer / busy, a staff member who hangs up
 * during the briefing, and the signal (the leg is hung up by its ChannelId). The real Asterisk is in
 * tests/e2e/asterisk_warm_transfer_test.ts.
 *
 * @module
 */
import assert from "node:assert/strict";
import { AmiClient, type AmiMessage } from "../../../gateway/asterisk/ami.ts";
import { AmiParser } from "../../../gateway/asterisk/ami_wire.ts";
import { originateOutcome, type WarmTiming, WarmTransfers } from "../../../gateway/asterisk/ami_warm.ts";
import { createLogger } from "../../../infra/mod.ts";

const log = createLogger({ salt: "s", level: "error", sink: () => {} });
const enc = new TextEncoder();
const CALLER = "PJSIP/caller-00000001";

const block = (f: Record<string, string>) =>
  Object.entries(f).map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n";

/** A stand-in AMI: banner, Login; `onOriginate` writes what Asterisk would after an Originate. */
function standIn(onOriginate: (a: AmiMessage, write: (s: string) => void) => void) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const actions: AmiMessage[] = [];
  const conns: Deno.TcpConn[] = [];
  const serve = (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      const write = (s: string) => void conn.write(enc.encode(s)).catch(() => 0);
      write("Asterisk Call Manager/9.0.0\r\n");
      (async () => {
        const parser = new AmiParser();
        parser.push(enc.encode("Asterisk Call Manager/9.0.0\r\n"));
        const buf = new Uint8Array(8192);
        for (;;) {
          const n = await conn.read(buf).catch(() => null);
          if (n === null) return;
          for (const a of parser.push(buf.subarray(0, n))) {
            actions.push(a);
            if (a.Action === "Originate") onOriginate(a, write);
            else write(block({ Response: "Success", ActionID: a.ActionID, Message: "ok" }));
          }
        }
      })();
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    actions,
    async close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await serve.catch(() => {});
    },
  };
}

async function withWarm(
  onOriginate: (a: AmiMessage, write: (s: string) => void, warm: WarmTransfers) => void,
  fn: (warm: WarmTransfers, s: ReturnType<typeof standIn>, timings: WarmTiming[]) => Promise<void>,
): Promise<void> {
  const held: { warm?: WarmTransfers } = {};
  const s = standIn((a, w) => onOriginate(a, w, held.warm as WarmTransfers));
  const ami = new AmiClient({ host: "127.0.0.1", port: s.port, username: "tom", secret: "pw", log });
  const timings: WarmTiming[] = [];
  const warm = new WarmTransfers(ami, { context: "tom-warm", ringSeconds: 7 }, log, (t) => timings.push(t));
  held.warm = warm;
  try {
    assert.ok(await ami.ready(3000));
    await fn(warm, s, timings);
  } finally {
    await ami.close();
    await s.close();
  }
}

const to = { kind: "extension", target: "21" } as const;
/** Asterisk's answer to the Originate `a` and its OriginateResponse for an answered leg, in one write. */
const answeredOriginate = (a: AmiMessage) =>
  block({ Response: "Success", ActionID: a.ActionID, Message: "Originate successfully queued" }) +
  block({ Event: "OriginateResponse", ActionID: a.ActionID, Response: "Success", Reason: "4" });
const warmId = (a: AmiMessage) => /TOM_WARM_ID=([0-9a-f-]+)/.exec(a.Variable ?? "")?.[1] ?? "";

Deno.test("warm transfer: Originate as documented, answered, briefed once, bridged -> answered", async () => {
  await withWarm((a, write, warm) => {
    // The response and the OriginateResponse in one write: the correlation must not lose the event.
    write(answeredOriginate(a));
    setTimeout(async () => {
      const leg = warm.take(warmId(a));
      assert.ok(leg, "the staff leg is known by its warm id");
      assert.equal(warm.take(warmId(a)), undefined, "one use");
      leg.connected();
      assert.equal((await leg.audio()).length, 3);
      leg.briefed();
      write(
        block({
          Event: "BridgeEnter",
          Uniqueid: a.ChannelId,
          Channel: "Local/21@tom-transfer-1;1",
          BridgeUniqueid: "b1",
        }),
      );
      write(block({ Event: "BridgeEnter", Uniqueid: "other", Channel: CALLER, BridgeUniqueid: "b1" }));
    }, 20);
  }, async (warm, s, timings) => {
    const briefing = { text: "Hier ist TOM", audio: () => Promise.resolve(new Int16Array(3)) };
    const o = await warm.transfer(
      CALLER,
      "tom-transfer",
      "21",
      { ...to, briefing },
      AbortSignal.timeout(3000),
    );
    assert.deepEqual(o, { ok: true });
    const a = s.actions.find((x) => x.Action === "Originate") as AmiMessage;
    assert.equal(a.Channel, "Local/21@tom-transfer/n");
    assert.deepEqual([a.Context, a.Exten, a.Priority, a.Timeout, a.Async], [
      "tom-warm",
      "s",
      "1",
      "7000",
      "true",
    ]);
    assert.match(a.ChannelId, /^[0-9a-f-]{36}$/);
    assert.match(a.Variable, new RegExp(`^TOM_WARM_ID=[0-9a-f-]{36},TOM_CALLER_CHANNEL=${CALLER}$`));
    assert.equal(timings.length, 1);
    assert.ok(timings[0].answeredMs <= timings[0].briefedMs && timings[0].briefedMs <= timings[0].bridgedMs);
    assert.ok(!s.actions.some((x) => x.Action === "Hangup"), "nothing hung up after a bridge");
  });
});

// In a call the transfer runs under the call's own signal (pipeline/call_desk.ts). Bridge() pulls the caller
// away from TOM, which ends the session and aborts that signal, and the BridgeEnter events may arrive after
// it. What the people get: they stay connected (TOM hangs up nothing); the transfer counts as done.
Deno.test("warm transfer: the call's signal aborted by the bridge itself, events after it -> still answered", async () => {
  const call = new AbortController();
  await withWarm((a, write, warm) => {
    write(answeredOriginate(a));
    setTimeout(async () => {
      const leg = warm.take(warmId(a));
      assert.ok(leg);
      leg.connected();
      await leg.audio();
      leg.briefed();
      call.abort(); // the caller's AudioSocket closed: Bridge() took the caller
      setTimeout(() => {
        write(
          block({
            Event: "BridgeEnter",
            Uniqueid: a.ChannelId,
            Channel: "Local/21@t-1;1",
            BridgeUniqueid: "b2",
          }),
        );
        write(block({ Event: "BridgeEnter", Uniqueid: "other", Channel: CALLER, BridgeUniqueid: "b2" }));
      }, 100);
    }, 20);
  }, async (warm, s) => {
    const briefing = { text: "Hier ist TOM", audio: () => Promise.resolve(new Int16Array(3)) };
    const signal = AbortSignal.any([call.signal, AbortSignal.timeout(5000)]);
    const o = await warm.transfer(CALLER, "tom-transfer", "21", { ...to, briefing }, signal);
    assert.deepEqual(o, { ok: true });
    assert.ok(!s.actions.some((x) => x.Action === "Hangup"), "the connected people are not cut");
  });
});

Deno.test("warm transfer: no answer or busy -> the caller stays with TOM, the leg is gone", async () => {
  for (const [reason, expected] of [["3", "no_answer"], ["5", "busy"], ["8", "unreachable"]] as const) {
    await withWarm((a, write) => {
      write(block({ Response: "Success", ActionID: a.ActionID, Message: "Originate successfully queued" }));
      setTimeout(() => {
        write(
          block({ Event: "OriginateResponse", ActionID: "someone-else", Response: "Success", Reason: "4" }),
        );
        write(
          block({ Event: "OriginateResponse", ActionID: a.ActionID, Response: "Failure", Reason: reason }),
        );
      }, 20);
    }, async (warm) => {
      const o = await warm.transfer(CALLER, "tom-transfer", "23", to, AbortSignal.timeout(3000));
      assert.equal(!o.ok && o.reason, expected, JSON.stringify(o));
    });
  }
  assert.equal(originateOutcome("0").reason, "failed");
});

Deno.test("warm transfer: a vague Reason 0 takes the staff leg's hang-up cause (the target's Dial gave up first)", async () => {
  // Seen on the real Asterisk under load: the target's Dial() in tom-transfer ends (NOANSWER) before the
  // Originate's own timeout, the leg hangs up with the dial's cause, and OriginateResponse says Reason 0.
  for (const [cause, expected] of [["19", "no_answer"], ["17", "busy"], ["34", "unreachable"]] as const) {
    await withWarm((a, write) => {
      write(block({ Response: "Success", ActionID: a.ActionID }));
      setTimeout(() => {
        write(block({ Event: "OriginateResponse", ActionID: a.ActionID, Response: "Failure", Reason: "0" }));
        setTimeout(() => write(block({ Event: "Hangup", Uniqueid: a.ChannelId, Cause: cause })), 30);
      }, 20);
    }, async (warm) => {
      const o = await warm.transfer(CALLER, "tom-transfer", "23", to, AbortSignal.timeout(3000));
      assert.equal(!o.ok && o.reason, expected, JSON.stringify(o));
    });
  }
  // Without a Hangup to refine it, Reason 0 stays "failed" (after the short wait).
  await withWarm((a, write) => {
    write(block({ Response: "Success", ActionID: a.ActionID }));
    write(block({ Event: "OriginateResponse", ActionID: a.ActionID, Response: "Failure", Reason: "0" }));
  }, async (warm) => {
    const o = await warm.transfer(CALLER, "tom-transfer", "23", to, AbortSignal.timeout(3000));
    assert.equal(!o.ok && o.reason, "failed");
  });
});

Deno.test("warm transfer: the staff member hangs up during the briefing -> failed, caller still with TOM", async () => {
  await withWarm((a, write) => {
    write(block({ Response: "Success", ActionID: a.ActionID }));
    write(block({ Event: "OriginateResponse", ActionID: a.ActionID, Response: "Success", Reason: "4" }));
    setTimeout(() => write(block({ Event: "Hangup", Uniqueid: a.ChannelId, Cause: "16" })), 20);
  }, async (warm) => {
    const o = await warm.transfer(CALLER, "tom-transfer", "21", to, AbortSignal.timeout(3000));
    assert.equal(!o.ok && o.reason, "failed");
  });
});

Deno.test("warm transfer: the signal ends it -> timeout, the ringing leg is hung up by its ChannelId", async () => {
  await withWarm(
    (a, write) => write(block({ Response: "Success", ActionID: a.ActionID })),
    async (warm, s) => {
      const o = await warm.transfer(CALLER, "tom-transfer", "21", to, AbortSignal.timeout(200));
      assert.equal(!o.ok && o.reason, "timeout");
      const originate = s.actions.find((x) => x.Action === "Originate") as AmiMessage;
      const hangup = s.actions.find((x) => x.Action === "Hangup");
      assert.equal(hangup?.Channel, originate.ChannelId);
    },
  );
});

Deno.test("warm transfer: Originate refused (no originate permission) -> failed at once", async () => {
  await withWarm(
    (a, write) => write(block({ Response: "Error", ActionID: a.ActionID, Message: "Permission denied" })),
    async (warm) => {
      const o = await warm.transfer(CALLER, "tom-transfer", "21", to, AbortSignal.timeout(3000));
      assert.deepEqual(o, { ok: false, reason: "failed", detail: "Originate refused: Permission denied" });
      const n = await warm.transfer("PJSIP/a,b", "tom-transfer", "21", to, AbortSignal.timeout(3000));
      assert.equal(!n.ok && n.detail, "unusable caller channel name");
    },
  );
});
