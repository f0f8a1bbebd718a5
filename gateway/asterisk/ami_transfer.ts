/**
 * Cold transfer of an Asterisk call through AMI: find the caller's channel, `Redirect` it to the
 * practice's transfer context (`asterisk.transferContext`, default `tom-transfer`, shipped in
 * infra/deploy/asterisk/extensions.conf) at the target's extension, and report the target's `Dial` result.
 *
 * Finding the caller's channel (checked against Asterisk 22 by tests/e2e/asterisk_transfer_test.ts):
 * - AudioSocket: the call's UUID is the argument of `AudioSocket(<uuid>,host:port)` or of
 *   `Dial(AudioSocket/host:port/<uuid>/c(slin16))`; `Action: Status` lists every channel with its running
 *   application and its (substituted) data, and the caller is the one whose `Data` holds the UUID. No
 *   change to the dialplan is needed.
 * - chan_websocket: `MEDIA_START` names the WebSocket channel, which is the channel the caller dialled; the
 *   caller is its `BRIDGEPEER` (`Action: Getvar`).
 *
 * The way back: before the `Redirect` of a call that names TOM's call (`callId`, `accountId`), a fresh
 * return id is registered in {@linkcode ReturningCalls} and set on the caller's channel as `TOM_RETURN`
 * (`Setvar`, `write = call`); the shipped `tom-transfer` sends a caller whose `Dial()` failed to
 * `tom,tom-return`, which connects it to TOM's AudioSocket with that id. A failed `Setvar` costs only the
 * way back (the transfer goes on; the dialplan's old route applies).
 *
 * Warm (`warm` option, ami_warm.ts): instead of the `Redirect`, TOM originates the target and briefs the
 * person first; voicemail targets stay cold.
 *
 * Outcome: `Redirect` answered with `Response: Error` -> failed; then the caller channel's `DialEnd`
 * (`DialStatus` ANSWER -> ok, BUSY -> busy, NOANSWER -> no_answer, CHANUNAVAIL/CONGESTION -> unreachable,
 * others -> failed) or its `Hangup` (failed, with the cause) or the signal (timeout). A voicemail target
 * dials nobody: the accepted `Redirect` is its confirmation. Permissions: `read = call`, `write = call`.
 *
 * @module
 */
import type { Logger } from "../../infra/mod.ts";
import type { TransferOutcome, TransferTo } from "../call/contract.ts";
import type { AmiClient, AmiMessage } from "./ami.ts";
import { type ReturnEntry, ReturningCalls } from "../call/returning.ts";
import { type WarmLeg, type WarmOptions, type WarmTiming, WarmTransfers } from "./ami_warm.ts";

/**
 * The call to transfer, as its transport knows it; with TOM's `callId` and `accountId`, a caller nobody
 * answers comes back to TOM (see the module's notes).
 */
export type AsteriskCallRef =
  & ({ transport: "audiosocket"; uuid: string } | { transport: "chan_websocket"; channel: string })
  & { callId?: string; accountId?: string };

/** Transfers Asterisk calls (one per appliance, shared by both transports). */
export interface AsteriskTransferer {
  transfer(call: AsteriskCallRef, to: TransferTo, signal: AbortSignal): Promise<TransferOutcome>;
  /** The transferred call a connection with this return id continues (consumed); undefined for others. */
  takeReturn?(id: string): ReturnEntry | undefined;
  /** The staff leg of a warm transfer a connection with this id is (consumed; ami_warm.ts). */
  takeWarm?(id: string): WarmLeg | undefined;
}

/** Options of {@linkcode amiTransferer}. */
export interface AmiTransferOptions {
  /** The dialplan context the caller is redirected to (`asterisk.transferContext`). */
  context: string;
  log: Logger;
  /** How long to wait for a connection that is being set up (default 2000 ms). */
  readyMs?: number;
  /** Called with each transfer's timing (ms from the call to the peer's confirmation). */
  onTiming?: (t: { redirectMs: number; outcomeMs: number; outcome: TransferOutcome }) => void;
  /** The registry of the way back (default: one of this transferer's own). */
  returning?: ReturningCalls;
  /** Warm transfers (`asterisk.warmTransfer`, ami_warm.ts) to extensions and numbers; voicemail stays cold. */
  warm?: WarmOptions;
  /** Called with each warm transfer's steps (ms from its start). */
  onWarmTiming?: (t: WarmTiming) => void;
}

/**
 * The extension a target maps to: extensions and numbers as given (digits, `+`, `*`, `#`), a voicemail box
 * as `vm<box>` (the shipped context's `_vm.` pattern). Undefined for anything else (never sent to AMI).
 */
export function transferExten(to: TransferTo): string | undefined {
  const t = to.target.replace(/[\s()/-]/g, "");
  if (!/^\+?[0-9*#]{1,32}$/.test(t)) return undefined;
  return to.kind === "voicemail" ? `vm${t}` : t;
}

/** Map a `DialStatus` to an outcome; undefined for CANCEL of one of several parallel destinations. */
export function dialOutcome(status: string): TransferOutcome | undefined {
  switch (status.toUpperCase()) {
    case "ANSWER":
      return { ok: true };
    case "BUSY":
      return { ok: false, reason: "busy", detail: "DialStatus BUSY" };
    case "NOANSWER":
      return { ok: false, reason: "no_answer", detail: "DialStatus NOANSWER" };
    case "CHANUNAVAIL":
    case "CONGESTION":
      return { ok: false, reason: "unreachable", detail: `DialStatus ${status}` };
    case "CANCEL":
    case "":
      return undefined;
    default:
      return { ok: false, reason: "failed", detail: `DialStatus ${status}` };
  }
}

/** What a transfer needs of the AMI client. */
export type AmiLink = Pick<AmiClient, "start" | "ready" | "action" | "onEvent" | "lastError" | "state">;

/** A transferer over `ami` (started here if it is not yet). */
export function amiTransferer(ami: AmiLink, opts: AmiTransferOptions): AsteriskTransferer {
  ami.start();
  const log = opts.log.child({ component: "gateway", feature: "transfer" });
  const returning = opts.returning ?? new ReturningCalls();
  const warm = opts.warm ? new WarmTransfers(ami, opts.warm, log, opts.onWarmTiming) : undefined;
  return {
    takeReturn: (id) => returning.take(id),
    takeWarm: (id) => warm?.take(id),
    async transfer(call, to, signal) {
      const t0 = performance.now();
      let redirectMs = NaN;
      const done = (outcome: TransferOutcome): TransferOutcome => {
        const outcomeMs = performance.now() - t0;
        log.info("Asterisk transfer", {
          transport: call.transport,
          target_kind: to.kind,
          ok: outcome.ok,
          reason: outcome.ok ? undefined : outcome.reason,
          detail: outcome.ok ? undefined : outcome.detail,
          redirect_ms: Math.round(redirectMs),
          outcome_ms: Math.round(outcomeMs),
        });
        opts.onTiming?.({ redirectMs, outcomeMs, outcome });
        return outcome;
      };
      const exten = transferExten(to);
      if (exten === undefined) return done({ ok: false, reason: "failed", detail: "invalid target" });
      if (signal.aborted) return done({ ok: false, reason: "timeout", detail: "aborted before the start" });
      if (!(await ami.ready(opts.readyMs ?? 2000, signal))) {
        return done({
          ok: false,
          reason: "failed",
          detail: `AMI unavailable: ${ami.lastError ?? ami.state}`,
        });
      }
      let channel: string | undefined;
      try {
        channel = await callerChannel(ami, call);
      } catch (e) {
        return done({ ok: false, reason: "failed", detail: `channel lookup: ${String(e)}` });
      }
      if (!channel) {
        return done({ ok: false, reason: "failed", detail: "the caller's channel was not found" });
      }
      const caller = channel;
      // Warm: the caller stays with TOM while TOM calls and briefs the person (ami_warm.ts).
      if (warm && to.kind !== "voicemail") {
        return done(await warm.transfer(caller, opts.context, exten, to, signal));
      }
      if (call.callId !== undefined && call.accountId !== undefined && to.kind !== "voicemail") {
        await setReturn(ami, returning, caller, { callId: call.callId, accountId: call.accountId }, log);
      }
      // Listen before the Redirect: a busy target answers within milliseconds of it.
      let settle: (o: TransferOutcome) => void = () => {};
      const result = new Promise<TransferOutcome>((r) => (settle = r));
      const off = ami.onEvent((e) => {
        if (e.Channel !== caller) return;
        if (e.Event === "DialEnd") {
          const o = dialOutcome(e.DialStatus ?? "");
          if (o) settle(o);
        } else if (e.Event === "Hangup") {
          settle({ ok: false, reason: "failed", detail: `hung up before an answer (cause ${causeOf(e)})` });
        }
      });
      const onAbort = () => settle({ ok: false, reason: "timeout", detail: "no outcome in time" });
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        const r = await ami.action({
          Action: "Redirect",
          Channel: caller,
          Context: opts.context,
          Exten: exten,
          Priority: "1",
        }).catch((e) => ({ response: { Response: "Error", Message: String(e) }, events: [] }));
        redirectMs = performance.now() - t0;
        if (r.response.Response !== "Success") {
          settle({ ok: false, reason: "failed", detail: `Redirect refused: ${r.response.Message ?? ""}` });
        } else if (to.kind === "voicemail") settle({ ok: true });
        return done(await result);
      } finally {
        off();
        signal.removeEventListener("abort", onAbort);
      }
    },
  };
}

/** Register the way back and set its id on the caller's channel; on failure, forget it (logged). */
async function setReturn(
  ami: AmiLink,
  returning: ReturningCalls,
  channel: string,
  entry: ReturnEntry,
  log: Logger,
): Promise<void> {
  const id = returning.register(entry);
  const r = await ami.action({ Action: "Setvar", Channel: channel, Variable: "TOM_RETURN", Value: id })
    .catch((e) => ({ response: { Response: "Error", Message: String(e) } as AmiMessage }));
  if (r.response.Response === "Success") return;
  returning.drop(id);
  log.warn("no way back after the transfer: Setvar refused", { detail: r.response.Message ?? "" });
}

/** The name of the caller's channel, or undefined when Asterisk has none for this call. */
async function callerChannel(ami: AmiLink, call: AsteriskCallRef): Promise<string | undefined> {
  if (call.transport === "chan_websocket") {
    const r = await ami.action({ Action: "Getvar", Channel: call.channel, Variable: "BRIDGEPEER" });
    const peer = r.response.Response === "Success" ? (r.response.Value ?? "").split(",")[0].trim() : "";
    return peer === "" ? undefined : peer;
  }
  const r = await ami.action({ Action: "Status" });
  const hit = r.events.find((e) =>
    e.Event === "Status" && /^(AudioSocket|Dial)$/i.test(e.Application ?? "") &&
    (e.Data ?? e.ApplicationData ?? "").includes(call.uuid)
  );
  return hit?.Channel;
}

function causeOf(e: AmiMessage): string {
  return [e.Cause, e["Cause-txt"]].filter((x) => x !== undefined && x !== "").join(" ") || "unknown";
}
