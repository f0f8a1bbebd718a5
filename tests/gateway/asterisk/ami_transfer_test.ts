/**
 * Cold transfer over AMI (gateway/asterisk/ami_transfer.ts) with a scripted AMI link: the target's
 * extension, the DialStatus mapping, the channel lookups (Status for AudioSocket, Getvar BRIDGEPEER for
 * chan_websocket), Redirect refused, a caller hanging up, the signal, AMI down. The real Asterisk is in
 * tests/e2e/asterisk_transfer_test.ts.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { AmiMessage } from "../../../gateway/asterisk/ami.ts";
import { AmiUnavailableError } from "../../../gateway/asterisk/ami.ts";
import {
  type AmiLink,
  amiTransferer,
  dialOutcome,
  transferExten,
} from "../../../gateway/asterisk/ami_transfer.ts";
import { ReturningCalls } from "../../../gateway/call/returning.ts";
import { createLogger } from "../../../infra/mod.ts";

const log = createLogger({ salt: "s", level: "error", sink: () => {} });
const UUID = "0d6a1c3e-3a51-4f1e-9f55-3f1d2a6b7c80";

/** A link whose actions answer from `reply`; `emit` sends an event to the listeners. */
function link(reply: (a: Record<string, string>) => AmiMessage, up = true) {
  const listeners = new Set<(e: AmiMessage) => void>();
  const actions: Record<string, string>[] = [];
  const l: AmiLink & { actions: typeof actions; emit(e: AmiMessage): void } = {
    actions,
    state: up ? "connected" : "backoff",
    lastError: up ? undefined : "Connection refused",
    start() {},
    ready: () => Promise.resolve(up),
    action(a) {
      if (!up) return Promise.reject(new AmiUnavailableError("down"));
      actions.push(a);
      const response = reply(a);
      const events = a.Action === "Status"
        ? [
          { Event: "Status", Channel: "PJSIP/other-1", Application: "Dial", Data: "PJSIP/22" },
          {
            Event: "Status",
            Channel: "PJSIP/caller-1",
            Application: "AudioSocket",
            Data: `${UUID},127.0.0.1:9092`,
          },
        ]
        : [];
      return Promise.resolve({ response, events });
    },
    onEvent(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    emit(e) {
      for (const fn of [...listeners]) fn(e);
    },
  };
  return l;
}

const ok = () => ({ Response: "Success" });

Deno.test("transferExten: digits, + and voicemail boxes; anything else is refused", () => {
  assert.equal(transferExten({ kind: "extension", target: "21" }), "21");
  assert.equal(transferExten({ kind: "number", target: "+49 30 1234-567" }), "+49301234567");
  assert.equal(transferExten({ kind: "voicemail", target: "100" }), "vm100");
  assert.equal(transferExten({ kind: "number", target: "21,Action: Logoff" }), undefined);
  assert.equal(transferExten({ kind: "extension", target: "" }), undefined);
});

Deno.test("dialOutcome maps Asterisk's DialStatus", () => {
  assert.deepEqual(dialOutcome("ANSWER"), { ok: true });
  for (
    const [s, r] of [["BUSY", "busy"], ["NOANSWER", "no_answer"], ["CHANUNAVAIL", "unreachable"], [
      "CONGESTION",
      "unreachable",
    ], ["INVALIDARGS", "failed"]]
  ) {
    const o = dialOutcome(s);
    assert.equal(o && !o.ok && o.reason, r, s);
  }
  assert.equal(dialOutcome("CANCEL"), undefined);
});

Deno.test("AudioSocket: the caller is found by its UUID in Status and redirected; DialEnd decides", async () => {
  const l = link(ok);
  const t = amiTransferer(l, { context: "tom-transfer", log });
  const p = t.transfer(
    { transport: "audiosocket", uuid: UUID },
    { kind: "extension", target: "21" },
    AbortSignal.timeout(2000),
  );
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(l.actions[1], {
    Action: "Redirect",
    Channel: "PJSIP/caller-1",
    Context: "tom-transfer",
    Exten: "21",
    Priority: "1",
  });
  l.emit({ Event: "DialEnd", Channel: "PJSIP/other-1", DialStatus: "BUSY" }); // another channel's
  l.emit({ Event: "DialEnd", Channel: "PJSIP/caller-1", DialStatus: "CANCEL" }); // one of several
  l.emit({ Event: "DialEnd", Channel: "PJSIP/caller-1", DialStatus: "ANSWER" });
  assert.deepEqual(await p, { ok: true });
});

Deno.test("the way back: TOM_RETURN is set on the caller before the Redirect; its id is taken once", async () => {
  const l = link(ok);
  const returning = new ReturningCalls();
  const t = amiTransferer(l, { context: "tom-transfer", log, returning });
  const p = t.transfer(
    { transport: "audiosocket", uuid: UUID, callId: "call-1", accountId: "acc-1" },
    { kind: "extension", target: "23" },
    AbortSignal.timeout(2000),
  );
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(l.actions.map((a) => a.Action), ["Status", "Setvar", "Redirect"]);
  const set = l.actions[1];
  assert.deepEqual([set.Channel, set.Variable], ["PJSIP/caller-1", "TOM_RETURN"]);
  assert.match(set.Value, /^[0-9a-f-]{36}$/);
  l.emit({ Event: "DialEnd", Channel: "PJSIP/caller-1", DialStatus: "NOANSWER" });
  assert.equal((await p).ok, false);
  assert.deepEqual(t.takeReturn?.(set.Value), { callId: "call-1", accountId: "acc-1" });
  assert.equal(t.takeReturn?.(set.Value), undefined);
  // Setvar refused: the transfer goes on without a way back.
  const refused = link((a) =>
    a.Action === "Setvar" ? { Response: "Error", Message: "No such channel" } : ok()
  );
  const r2 = new ReturningCalls();
  const p2 = amiTransferer(refused, { context: "tom-transfer", log, returning: r2 }).transfer(
    { transport: "audiosocket", uuid: UUID, callId: "call-2", accountId: "acc-1" },
    { kind: "extension", target: "21" },
    AbortSignal.timeout(2000),
  );
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(refused.actions[2].Action, "Redirect");
  refused.emit({ Event: "DialEnd", Channel: "PJSIP/caller-1", DialStatus: "ANSWER" });
  assert.deepEqual(await p2, { ok: true });
  assert.equal(r2.size, 0);
});

Deno.test("chan_websocket: the caller is the WebSocket channel's BRIDGEPEER; a hang-up fails it", async () => {
  const l = link((a) => a.Action === "Getvar" ? { Response: "Success", Value: "PJSIP/caller-2" } : ok());
  const t = amiTransferer(l, { context: "tom-transfer", log });
  const p = t.transfer({ transport: "chan_websocket", channel: "WebSocket/tom-0001" }, {
    kind: "number",
    target: "0301234567",
  }, AbortSignal.timeout(2000));
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(l.actions[0], { Action: "Getvar", Channel: "WebSocket/tom-0001", Variable: "BRIDGEPEER" });
  assert.equal(l.actions[1].Channel, "PJSIP/caller-2");
  l.emit({ Event: "Hangup", Channel: "PJSIP/caller-2", Cause: "16", "Cause-txt": "Normal Clearing" });
  const o = await p;
  assert.equal(!o.ok && o.reason, "failed");
  assert.match(!o.ok ? o.detail ?? "" : "", /cause 16 Normal Clearing/);
});

Deno.test("refused Redirect, unknown channel, no bridge peer, the signal, AMI down, voicemail", async () => {
  const to = { kind: "extension", target: "21" } as const;
  const call = { transport: "audiosocket", uuid: UUID } as const;
  const reason = async (
    l: AmiLink,
    c: Parameters<ReturnType<typeof amiTransferer>["transfer"]>[0],
    ms = 2000,
  ) => {
    const o = await amiTransferer(l, { context: "tom-transfer", log }).transfer(
      c,
      to,
      AbortSignal.timeout(ms),
    );
    return o.ok ? "ok" : `${o.reason}: ${o.detail}`;
  };
  assert.match(
    await reason(
      link((a) => a.Action === "Redirect" ? { Response: "Error", Message: "No such channel" } : ok()),
      call,
    ),
    /^failed: Redirect refused: No such channel/,
  );
  assert.match(
    await reason(link(ok), { transport: "audiosocket", uuid: crypto.randomUUID() }),
    /^failed: the caller's channel was not found/,
  );
  assert.match(
    await reason(link((a) => a.Action === "Getvar" ? { Response: "Success", Value: "" } : ok()), {
      transport: "chan_websocket",
      channel: "WebSocket/x",
    }),
    /^failed: the caller's channel/,
  );
  assert.match(await reason(link(ok), call, 50), /^timeout/);
  assert.match(await reason(link(ok, false), call), /^failed: AMI unavailable: Connection refused/);
  const vm = await amiTransferer(link(ok), { context: "tom-transfer", log }).transfer(call, {
    kind: "voicemail",
    target: "100",
  }, AbortSignal.timeout(1000));
  assert.deepEqual(vm, { ok: true });
});
