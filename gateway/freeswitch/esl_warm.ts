/**
 * Warm transfer of a FreeSWITCH call over the event socket (`freeswitch.warmTransfer`): the caller stays with
 * TOM (its fork attached, TOM can keep talking) while TOM calls the person, tells them who is calling and why,
 * and only then bridges the caller to them. The FreeSWITCH counterpart of gateway/asterisk/ami_warm.ts, with
 * the same outcomes.
 *
 * 1. `bgapi originate {origination_uuid=<staff>,originate_timeout=<warmRingSeconds>,ignore_early_media=true,
 *    hangup_after_bridge=true,origination_caller_id_name=TOM}<dial string> &park()`: the staff leg, with a
 *    uuid of TOM's choosing, parked once answered. The dial string is the target's, dialled directly:
 *    an extension as `user/<ext>`, a number through `freeswitch.dialPrefix` (the gateway of outbound calls).
 * 2. The job's result (`BACKGROUND_JOB`): `-ERR <CAUSE>` -> nobody took it, the caller is still with TOM
 *    (`transferReasonOf`: USER_BUSY busy, NO_ANSWER no_answer, ...). `+OK <uuid>` (or the staff leg's
 *    `CHANNEL_ANSWER`): the person answered.
 * 3. TOM plays the briefing (`TransferTo.briefing`, made now) on the staff leg the way it plays its voice on a
 *    call (playback.ts: a WAV file, `uuid_broadcast <staff> <file> aleg`, done on `PLAYBACK_STOP`). A briefing
 *    that cannot be made in time: the caller is put through unannounced.
 * 4. `uuid_setvar <caller> hangup_after_bridge true`, then `api uuid_bridge <caller> <staff>`; its
 *    `CHANNEL_BRIDGE` (either leg) -> answered (fork.ts then stops TOM's fork: the caller is with the person).
 *    `-ERR` -> failed. The staff leg's `CHANNEL_HANGUP` after the answer and before the bridge -> failed (the
 *    caller is still with TOM). The signal -> timeout. Every failure after the originate kills the staff leg
 *    (`uuid_kill <staff>`), so that nobody is left on a parked line.
 *
 * @module
 */
import { join } from "node:path";
import type { Logger } from "../../infra/mod.ts";
import type { TransferOutcome, TransferTo } from "../call/contract.ts";
import { eslErrorCause, type EslEvent, eslOk } from "./esl_wire.ts";
import { fsTransferTarget, type TransferEsl, transferReasonOf } from "./esl_transfer.ts";
import { FsPlayback } from "./playback.ts";

/** The part of the ESL client a warm transfer needs. */
export interface WarmEsl extends TransferEsl {
  bgapi(command: string, timeoutMs?: number): Promise<string>;
}

/** Options of {@linkcode fsWarmTransfer}. */
export interface FsWarmOptions {
  /** Seconds the target rings (`freeswitch.warmRingSeconds`). */
  ringSeconds: number;
  /** The endpoint prefix numbers are dialled through (`freeswitch.dialPrefix`). */
  dialPrefix: string;
  /** Where the briefing's WAV is written (the playback directory; a folder per staff leg, removed after). */
  playbackDir: string;
  log: Logger;
  /** Longest time the briefing audio may take to make (default 5000 ms; then the caller comes unannounced). */
  briefingTimeoutMs?: number;
}

/** The dial string of the staff leg, or undefined for a target that is not one (voicemail stays cold). */
export function warmDialString(to: TransferTo, dialPrefix: string): string | undefined {
  if (to.kind === "voicemail" || !/^[A-Za-z0-9/_.:@+-]*$/.test(dialPrefix)) return undefined;
  const target = fsTransferTarget(to, { context: "", voicemailPrefix: "" });
  if (target === undefined) return undefined;
  return to.kind === "extension" ? `user/${target}` : `${dialPrefix}${target}`;
}

const BRIEFED = "tom-warm-briefed";

/**
 * Warm-transfer the caller on channel `caller` to `to`; never throws.
 *
 * @returns answered (`ok`) once the caller is bridged to the person, otherwise why the caller stays with TOM
 */
export async function fsWarmTransfer(
  esl: WarmEsl,
  caller: string,
  to: TransferTo,
  signal: AbortSignal,
  o: FsWarmOptions,
): Promise<TransferOutcome> {
  const dial = warmDialString(to, o.dialPrefix);
  if (!dial) return { ok: false, reason: "failed", detail: "invalid warm transfer target" };
  if (!/^[A-Za-z0-9-]+$/.test(caller)) return { ok: false, reason: "failed", detail: "unusable caller uuid" };
  if (signal.aborted) return { ok: false, reason: "timeout", detail: "aborted before start" };
  if (!esl.connected) return { ok: false, reason: "failed", detail: "FreeSWITCH event socket not connected" };
  const t0 = performance.now();
  const since = () => Math.round(performance.now() - t0);
  const timing: Record<"answered_ms" | "briefed_ms" | "bridged_ms", number | undefined> = {
    answered_ms: undefined,
    briefed_ms: undefined,
    bridged_ms: undefined,
  };
  const staff = crypto.randomUUID();
  let settled = false;
  let resolve: (o: TransferOutcome) => void = () => {};
  const result = new Promise<TransferOutcome>((r) => (resolve = r));
  const settle = (outcome: TransferOutcome) => {
    settled = true;
    resolve(outcome);
  };
  let briefed: () => void = () => {};
  const briefingDone = new Promise<void>((r) => (briefed = r));
  const playback = new FsPlayback({
    uuid: staff,
    dir: join(o.playbackDir, staff),
    esl,
    sendJson: () => {},
    onMark: (name) => name === BRIEFED && briefed(),
    log: o.log,
  });
  let answered = false;
  let jobDone = false;
  /**
   * The two legs are bridged. Set even when the transfer is already settled: the call's own listener (fork.ts)
   * sees the same CHANNEL_BRIDGE first and ends the session, which aborts `signal` before this listener runs.
   */
  let bridged = false;
  const answer = () => {
    if (answered || settled) return;
    answered = true;
    timing.answered_ms = since();
    void brief();
  };
  const brief = async () => {
    const ms = o.briefingTimeoutMs ?? 5000;
    const pcm = await (to.briefing?.audio(AbortSignal.any([signal, AbortSignal.timeout(ms)])) ??
      Promise.resolve(new Int16Array(0))).catch((e) => {
        o.log.warn("no briefing for the warm transfer: the caller is put through unannounced", { error: e });
        return new Int16Array(0);
      });
    playback.push(pcm);
    playback.mark(BRIEFED);
    await Promise.race([briefingDone, result]);
    if (settled) return;
    timing.briefed_ms = since();
    await esl.api(`uuid_setvar ${caller} hangup_after_bridge true`).catch(() => "");
    if (settled) return;
    const reply = await esl.api(`uuid_bridge ${caller} ${staff}`).catch((e) => `-ERR ${String(e)}`);
    if (!eslOk(reply)) {
      settle({ ok: false, reason: "failed", detail: `uuid_bridge: ${eslErrorCause(reply)}` });
    }
  };
  // Listen before the originate: the leg's events may come before the job's result.
  const off = esl.onEvent((e: EslEvent) => {
    const other = e.headers["Other-Leg-Unique-ID"];
    if (
      e.name === "CHANNEL_BRIDGE" && (e.uuid === staff || e.uuid === caller) &&
      (other === staff || other === caller)
    ) {
      bridged = true;
      timing.bridged_ms = since();
      return settle({ ok: true });
    }
    if (e.uuid !== staff) return;
    if (e.name === "PLAYBACK_START" || e.name === "PLAYBACK_STOP") return playback.onEvent(e);
    if (e.name === "CHANNEL_ANSWER") return answer();
    // Before the answer the job's -ERR says why; after it, the person hung up before the bridge.
    if ((e.name === "CHANNEL_HANGUP" || e.name === "CHANNEL_HANGUP_COMPLETE") && answered) {
      settle({
        ok: false,
        reason: "failed",
        detail: `the staff leg hung up before the bridge (${e.headers["Hangup-Cause"] || "UNKNOWN"})`,
      });
    }
  });
  const onAbort = () => settle({ ok: false, reason: "timeout", detail: "no bridge in time" });
  signal.addEventListener("abort", onAbort, { once: true });
  const vars = [
    `origination_uuid=${staff}`,
    `originate_timeout=${Math.round(o.ringSeconds)}`,
    "ignore_early_media=true",
    "hangup_after_bridge=true",
    "origination_caller_id_name=TOM",
  ].join(",");
  esl.bgapi(`originate {${vars}}${dial} &park()`, (o.ringSeconds + 10) * 1000).then(
    (reply) => {
      jobDone = true;
      if (eslOk(reply)) return answer();
      const cause = eslErrorCause(reply);
      settle({ ok: false, reason: transferReasonOf(cause), detail: `originate: ${cause}` });
    },
    (e) =>
      settle({
        ok: false,
        reason: "failed",
        detail: `originate: ${e instanceof Error ? e.name : String(e)}`,
      }),
  );
  try {
    // Bridged is bridged, whatever settled first (an abort from the session that the bridge itself ended).
    // (`await` resumes after the event's dispatch, so this listener has seen the bridge by then.)
    const settledFirst = await result;
    const outcome: TransferOutcome = bridged ? { ok: true } : settledFirst;
    // A leg still ringing or parked (timeout, failed bridge) must not stay on the person's phone.
    if (!outcome.ok && (answered || !jobDone)) await esl.api(`uuid_kill ${staff}`).catch(() => "");
    o.log.info("FreeSWITCH warm transfer", {
      ok: outcome.ok,
      ...(outcome.ok ? {} : { reason: outcome.reason, detail: outcome.detail }),
      ...timing,
    });
    return outcome;
  } finally {
    off();
    signal.removeEventListener("abort", onAbort);
    await playback.stop();
  }
}
