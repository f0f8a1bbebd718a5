/**
 * Start-up recovery of calls a killed TOM left open (SIGKILL, power cut, OOM killer): without it their
 * rows stay `active` for ever (the live view and `/api/calls?active=true` list them) and their recordings
 * keep the streaming header with "to the end of the file" sizes. Run once when `tom serve` starts, before
 * any transport takes a call: each such call is ended as failed with {@linkcode INTERRUPTED_REASON} at the
 * last time TOM knew it was running (its last transcript turn or the recording's last write; its start
 * when there is neither), and its recording gets the real sizes in its header.
 *
 * @module
 */
import { join } from "node:path";
import type { Config } from "../infra/mod.ts";
import type { Logger } from "../infra/mod.ts";
import { endCall, listInterruptedCalls, type Store } from "../store/mod.ts";
import { recordingRelativePath, recordingsDir } from "./recording.ts";
import { repairWavFile } from "./audio/wav.ts";

/** The failure reason of a call that was running when TOM was killed. */
export const INTERRUPTED_REASON = "interrupted: TOM stopped during the call and was restarted";

/** What {@linkcode recoverInterruptedCalls} did. */
export interface Recovery {
  /** Calls ended. */
  ended: number;
  /** Recordings whose header was repaired. */
  recordingsRepaired: number;
}

/** End the calls a previous run left open and repair their recordings. Never throws for one bad call. */
export function recoverInterruptedCalls(deps: { config: Config; store: Store; log: Logger }): Recovery {
  const { config, store, log } = deps;
  const result: Recovery = { ended: 0, recordingsRepaired: 0 };
  for (const call of listInterruptedCalls(store)) {
    const clog = log.child({ call_id: call.id });
    let lastWrite: number | undefined;
    try {
      // The same name recording.ts gives the file, whether or not the row got to store it.
      const file = join(recordingsDir(config.dataDir), recordingRelativePath(call.accountId, call.id));
      const repair = repairWavFile(file);
      lastWrite = Deno.statSync(file).mtime?.getTime();
      if (repair.repaired) {
        result.recordingsRepaired++;
        clog.info("recording of an interrupted call repaired", { data_bytes: repair.dataBytes });
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) {
        clog.warn("cannot repair the recording of an interrupted call", { error: e });
      }
    }
    const at = Math.max(call.startedAt, call.answeredAt ?? 0, call.lastTurnAt ?? 0, lastWrite ?? 0);
    try {
      if (
        endCall(store, call.accountId, call.id, { status: "failed", at, failureReason: INTERRUPTED_REASON })
      ) {
        result.ended++;
      }
    } catch (e) {
      clog.error("cannot end a call interrupted by a restart", { error: e });
    }
  }
  if (result.ended > 0) {
    log.warn("calls interrupted by the last stop were ended", {
      count: result.ended,
      recordings_repaired: result.recordingsRepaired,
    });
  }
  return result;
}
