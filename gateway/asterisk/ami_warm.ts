/**
 * Warm transfer of an Asterisk call through AMI: the caller stays with TOM while TOM calls the practice's
 * target, tells the person who is calling and why, and only then puts the caller through. Checked against
 * Asterisk 22 by tests/e2e/asterisk_warm_transfer_test.ts.
 *
 * 1. `Originate` (async, `Timeout` = `asterisk.warmRingSeconds`) of `Local/<exten>@<transferContext>/n`, the
 *    same extension a cold transfer's `Redirect` would run, with `TOM_WARM_ID` (a one-use id) and
 *    `TOM_CALLER_CHANNEL` (the caller's channel) as channel variables and a `ChannelId` of TOM's choosing.
 *    The shipped `tom-transfer` hangs up a failed `Dial()` of a warm leg (`TOM_WARM_ID` set) instead of
 *    sending it to TOM.
 * 2. `OriginateResponse` (same `ActionID`): `Failure` -> the caller is still with TOM, the outcome says why
 *    (`Reason` 5 busy, 8 congestion -> unreachable, 1 and 3 -> no_answer; a vague Reason 0 waits up to
 *    1 s for the staff leg's `Hangup` and takes its cause: unansweredOutcome). `Success`: the person answered and
 *    the leg runs the shipped `tom-warm` context: `AudioSocket(${TOM_WARM_ID},...)` to TOM, then
 *    `Bridge(${TOM_CALLER_CHANNEL})`.
 * 3. TOM's AudioSocket server takes the id ({@linkcode WarmTransfers.take}), plays the briefing (made by the
 *    answering stage, `TransferTo.briefing`) and hangs up that connection; the dialplan goes on to `Bridge`,
 *    which takes the caller away from TOM.
 * 4. Both channels' `BridgeEnter` into one bridge -> answered. The staff leg's `Hangup` before that -> failed
 *    (the caller is still with TOM). The signal (TOM's bound, or the caller hanging up) -> the staff leg is
 *    hung up (`Hangup` by its `ChannelId`), timeout.
 *
 * Permissions: `write = call,originate` (Originate, Hangup), `read = call` (OriginateResponse, BridgeEnter,
 * Hangup).
 *
 * @module
 */
import type { Logger } from "../../infra/mod.ts";
import type { TransferOutcome, TransferTo } from "../call/contract.ts";
import type { AmiMessage } from "./ami_wire.ts";
import type { AmiClient } from "./ami.ts";

/** What a warm transfer needs of the AMI client. */
type AmiLink = Pick<AmiClient, "action" | "onEvent">;

/** Options of a warm transfer (`asterisk.warmTransfer`). */
export interface WarmOptions {
  /** The context the answered staff leg runs (`asterisk.warmContext`, shipped `tom-warm`). */
  context: string;
  /** Seconds the target rings before the caller is TOM's again (`asterisk.warmRingSeconds`). */
  ringSeconds: number;
  /** Longest time the briefing audio may take to make (default 5000 ms; then the caller comes unannounced). */
  briefingTimeoutMs?: number;
}

/** The staff leg of a warm transfer, as TOM's AudioSocket server gets it (one use). */
export interface WarmLeg {
  /** The briefing as PIPELINE_RATE PCM (empty when there is none or it could not be made in time). */
  audio(): Promise<Int16Array>;
  /** The leg's AudioSocket connected (timing). */
  connected(): void;
  /** The briefing was played; TOM closes the connection and the dialplan bridges. */
  briefed(): void;
}

/** When each step of a warm transfer happened, in ms from its start (NaN: it did not happen). */
export interface WarmTiming {
  answeredMs: number;
  briefedMs: number;
  bridgedMs: number;
  outcome: TransferOutcome;
}

/** Map an `OriginateResponse` `Reason` (Asterisk's control frame number) to the outcome of a failure. */
export function originateOutcome(reason: string): Exclude<TransferOutcome, { ok: true }> {
  switch (reason) {
    case "5":
      return { ok: false, reason: "busy", detail: "Originate Reason 5 (busy)" };
    case "8":
      return { ok: false, reason: "unreachable", detail: "Originate Reason 8 (congestion)" };
    case "1":
    case "3":
      return { ok: false, reason: "no_answer", detail: `Originate Reason ${reason}` };
    default:
      return { ok: false, reason: "failed", detail: `Originate Reason ${reason || "none"}` };
  }
}

/**
 * A staff leg that hung up before anyone answered, by its Q.850 `Cause`: busy (17), unreachable (no route,
 * congestion, out of order: 1, 3, 27, 34, 38), otherwise nobody took it (19 no answer, 18 no response, 16 a
 * dial that gave up).
 */
export function unansweredOutcome(cause: string | undefined): Exclude<TransferOutcome, { ok: true }> {
  const detail = `the staff leg hung up before an answer (cause ${cause ?? "unknown"})`;
  if (cause === "17") return { ok: false, reason: "busy", detail };
  if (["1", "3", "27", "34", "38"].includes(cause ?? "")) return { ok: false, reason: "unreachable", detail };
  return { ok: false, reason: "no_answer", detail };
}

/** How long a vague Originate failure (Reason 0) waits for the staff leg's Hangup and its cause. */
const CAUSE_WAIT_MS = 1000;
/** How long an abort after the briefing waits for the bridge's events before the transfer counts as failed. */
const BRIDGE_WAIT_MS = 3000;

/** Warm transfers over one AMI link (one per appliance). */
export class WarmTransfers {
  readonly #ami: AmiLink;
  readonly #o: WarmOptions;
  readonly #log: Logger;
  readonly #legs = new Map<string, WarmLeg>();
  readonly #onTiming: ((t: WarmTiming) => void) | undefined;

  constructor(ami: AmiLink, opts: WarmOptions, log: Logger, onTiming?: (t: WarmTiming) => void) {
    this.#ami = ami;
    this.#o = opts;
    this.#log = log;
    this.#onTiming = onTiming;
  }

  /** The staff leg with this warm id (consumed); undefined for any other id. */
  take(id: string): WarmLeg | undefined {
    const leg = this.#legs.get(id.toLowerCase());
    this.#legs.delete(id.toLowerCase());
    return leg;
  }

  /**
   * Call the target on `exten` of `dialContext` for the caller on `caller`; resolves once the caller is
   * bridged to the person (ok) or is known to stay with TOM (not ok).
   */
  async transfer(
    caller: string,
    dialContext: string,
    exten: string,
    to: TransferTo,
    signal: AbortSignal,
  ): Promise<TransferOutcome> {
    const t0 = performance.now();
    const timing = { answeredMs: NaN, briefedMs: NaN, bridgedMs: NaN };
    if (/[,=\s]/.test(caller)) return { ok: false, reason: "failed", detail: "unusable caller channel name" };
    const id = crypto.randomUUID();
    const staff = crypto.randomUUID();
    let settle: (o: TransferOutcome) => void = () => {};
    const result = new Promise<TransferOutcome>((r) => (settle = r));
    const since = () => performance.now() - t0;
    const briefingMs = this.#o.briefingTimeoutMs ?? 5000;
    this.#legs.set(id, {
      audio: () =>
        to.briefing
          ? to.briefing.audio(AbortSignal.any([signal, AbortSignal.timeout(briefingMs)]))
          : Promise.resolve(new Int16Array(0)),
      connected: () => this.#log.debug("warm transfer: briefing the staff member", { at_ms: since() }),
      briefed: () => (timing.briefedMs = since()),
    });
    let actionId: string | undefined;
    let causeWait: ReturnType<typeof setTimeout> | undefined;
    const early: AmiMessage[] = [];
    const bridges = new Map<"staff" | "caller", string>();
    const originated = (e: AmiMessage) => {
      if (e.Response === "Success") return void (timing.answeredMs = since());
      const o = originateOutcome(e.Reason ?? "");
      // Reason 0 says only "failed" (a target's Dial that gave up before the Originate's own timeout ends
      // that way): the staff leg's Hangup, just behind, carries the cause that says what happened.
      if (o.reason !== "failed") settle(o);
      else causeWait = setTimeout(() => settle(o), CAUSE_WAIT_MS);
    };
    // Listen before the Originate: its events may come in the same read as its response.
    const off = this.#ami.onEvent((e) => {
      if (e.Event === "OriginateResponse") {
        if (actionId === undefined) early.push(e);
        else if (e.ActionID === actionId) originated(e);
      } else if (e.Event === "BridgeEnter") {
        if (e.Uniqueid === staff) bridges.set("staff", e.BridgeUniqueid ?? "");
        else if (e.Channel === caller) bridges.set("caller", e.BridgeUniqueid ?? "");
        const b = bridges.get("staff");
        if (b !== undefined && b !== "" && bridges.get("caller") === b) {
          timing.bridgedMs = since();
          settle({ ok: true });
        }
      } else if (e.Event === "Hangup" && e.Uniqueid === staff) {
        settle(
          Number.isNaN(timing.answeredMs) ? unansweredOutcome(e.Cause) : {
            ok: false,
            reason: "failed",
            detail: `the staff leg hung up before the bridge (cause ${e.Cause ?? "unknown"})`,
          },
        );
      }
    });
    const timedOut: TransferOutcome = { ok: false, reason: "timeout", detail: "no bridge in time" };
    // After the briefing the dialplan's Bridge() pulls the caller away from TOM: that ends the call's session,
    // which aborts this signal, often before Asterisk's BridgeEnter events arrive. Hanging up the staff leg
    // then would cut the two people TOM just connected: wait for the bridge (or the leg's hang-up) a moment.
    let bridgeWait: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      if (Number.isNaN(timing.briefedMs)) return settle(timedOut);
      bridgeWait = setTimeout(() => settle(timedOut), BRIDGE_WAIT_MS);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const r = await this.#ami.action({
        Action: "Originate",
        Channel: `Local/${exten}@${dialContext}/n`,
        Context: this.#o.context,
        Exten: "s",
        Priority: "1",
        Timeout: String(this.#o.ringSeconds * 1000),
        CallerID: "TOM",
        Async: "true",
        ChannelId: staff,
        Variable: `TOM_WARM_ID=${id},TOM_CALLER_CHANNEL=${caller}`,
      }).catch((e) => ({ response: { Response: "Error", Message: String(e) } as AmiMessage, events: [] }));
      if (r.response.Response !== "Success") {
        settle({ ok: false, reason: "failed", detail: `Originate refused: ${r.response.Message ?? ""}` });
      } else {
        actionId = r.response.ActionID;
        for (const e of early.splice(0)) if (e.ActionID === actionId) originated(e);
      }
      const outcome = await result;
      // A leg still ringing or answered (timeout, staff hung up mid-briefing) must not reach the caller.
      if (!outcome.ok) await this.#hangupStaff(staff);
      this.#onTiming?.({ ...timing, outcome });
      this.#log.info("Asterisk warm transfer", {
        ok: outcome.ok,
        reason: outcome.ok ? undefined : outcome.reason,
        answered_ms: round(timing.answeredMs),
        briefed_ms: round(timing.briefedMs),
        bridged_ms: round(timing.bridgedMs),
      });
      return outcome;
    } finally {
      clearTimeout(causeWait);
      clearTimeout(bridgeWait);
      off();
      signal.removeEventListener("abort", onAbort);
      this.#legs.delete(id);
    }
  }

  /** Hang up the staff leg if it is still there (the caller stays with TOM); never throws. */
  async #hangupStaff(staff: string): Promise<void> {
    await this.#ami.action({ Action: "Hangup", Channel: staff, Cause: "16" }, 2000).catch(() => null);
  }
}

function round(ms: number): number | undefined {
  return Number.isNaN(ms) ? undefined : Math.round(ms);
}
