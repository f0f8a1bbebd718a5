/**
 * The transfer of a test call (browser protocol). A test call has no telephone system behind it, so
 * nobody can really be put through: the browser transport simulates the hand-over honestly. It tells the
 * test caller what would ring (`transfer_ringing`: the practice's target and the ringing time), lets it
 * "ring" `gateway.testTransferRingMs`, then reports the transfer as connected and ends the test call with
 * {@linkcode TRANSFERRED_REASON}. Only for the test-call page and development clients; telephony
 * transports transfer for real (AMI Redirect, uuid_transfer, Twilio `<Dial>`).
 *
 * @module
 */
import type { TransferOutcome } from "../call/contract.ts";

/** Default ringing time of a simulated transfer, ms. */
export const DEFAULT_TEST_TRANSFER_RING_MS = 1_500;

/** The close reason (and `call_end` reason) of a test call after its simulated transfer. */
export const TRANSFERRED_REASON = "transferred to a person (test call)";

/**
 * Let the simulated target "ring" for `ringMs`, then answer. Aborting `signal` first (the pipeline's
 * transfer timeout, or the call ended) stops the ringing: `timeout`.
 *
 * @example
 * ```ts
 * import { ringThenAnswer } from "./simulated_transfer.ts";
 *
 * const outcome = await ringThenAnswer(10, AbortSignal.timeout(1_000));
 * console.log(outcome); // { ok: true }
 * ```
 */
export function ringThenAnswer(ringMs: number, signal: AbortSignal): Promise<TransferOutcome> {
  const aborted: TransferOutcome = { ok: false, reason: "timeout", detail: "simulated transfer aborted" };
  if (signal.aborted) return Promise.resolve(aborted);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(aborted);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve({ ok: true });
    }, Math.max(0, ringMs));
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
