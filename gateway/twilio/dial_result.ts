/**
 * Twilio: the way back after a transfer nobody answered. The transfer's `<Dial>` (rest_transfer.ts) carries
 * `action="{publicUrl}/twilio/dial?return=ID"`, ID a one-use return id (call/returning.ts). When the dialled
 * call ends, Twilio POSTs that URL (signed with `X-Twilio-Signature` like the voice webhook) with
 * `DialCallStatus` completed | answered | busy | no-answer | failed | canceled, the call's `CallSid`,
 * `AccountSid`, `From` and `To`, and runs the TwiML of the answer:
 * - completed, answered: the person took the call; `<Hangup/>` (the caller's leg ends with it).
 * - otherwise: `<Connect><Stream>` back to TOM, the same TwiML the voice webhook answers, with the return id
 *   as `<Parameter name="tom_return">` (covered by the call token): the stream takes the id and opens the
 *   call as returned (`meta.returnedFromTransfer`), so TOM says nobody answered and asks for a callback
 *   number. An id that is unknown, expired or used opens an ordinary call (greeting).
 *
 * Each result is counted in `tom_twilio_transfer_results_total{result}`; `tom_transfers_total` (the
 * pipeline's) already counted the hand-over when Twilio accepted the `<Dial>`, and counting the same
 * transfer there again would count it twice.
 *
 * @module
 */
import type { Counter } from "@opentelemetry/api";
import type { Logger } from "../../infra/mod.ts";
import type { ReturningCalls } from "../call/returning.ts";
import type { STREAM_BOUND_PARAMETERS } from "./signature.ts";

/** The route Twilio requests when a transfer's `<Dial>` ends. */
export const DIAL_ACTION_PATH = "/twilio/dial";
/** The stream `<Parameter>` that carries the return id (one of the parameters the call token covers). */
export const RETURN_PARAMETER = "tom_return" satisfies (typeof STREAM_BOUND_PARAMETERS)[number];

const RETURN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `DialCallStatus` -> the result label; undefined for a value Twilio does not document. */
const RESULTS: Record<string, "answered" | "busy" | "no_answer" | "failed" | "canceled"> = {
  "completed": "answered",
  "answered": "answered",
  "busy": "busy",
  "no-answer": "no_answer",
  "failed": "failed",
  "canceled": "canceled",
};

/** The `<Dial action>` URL for return id `id` (`base`: the public base URL, no trailing slash). */
export function dialActionUrl(base: string, id: string): string {
  return `${base}${DIAL_ACTION_PATH}?return=${encodeURIComponent(id)}`;
}

/** Whether `id` has the shape of a return id. */
export function isReturnId(id: unknown): id is string {
  return typeof id === "string" && RETURN_ID.test(id);
}

/** What the action needs from the transport. */
export interface DialResultEnv {
  returning: ReturningCalls;
  /** Counts results (`tom_twilio_transfer_results_total`). */
  results: Counter;
  log: Logger;
  /** The TwiML that connects the call of `form` to TOM's stream (caller, callee, call token) with `extra`. */
  connect: (form: URLSearchParams, extra: Record<string, string>) => string;
  /** The TwiML refusing a call TOM cannot take now (full, draining), or undefined. */
  refusal: () => string | undefined;
}

const HANGUP = '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>';

/** The TwiML answer to a signed Dial action request, or the problem for a 400. */
export function dialResult(
  env: DialResultEnv,
  form: URLSearchParams,
  returnId: string | undefined,
): { twiml: string } | { error: string } {
  const callSid = form.get("CallSid") ?? "";
  if (!/^CA[0-9a-zA-Z]{1,62}$/.test(callSid)) return { error: "Missing or invalid CallSid" };
  if (!isReturnId(returnId)) return { error: "Missing or invalid return id" };
  const result = RESULTS[form.get("DialCallStatus") ?? ""] ?? "failed";
  env.results.add(1, { result });
  env.log.info("Twilio transfer result", { result });
  if (result === "answered") {
    env.returning.drop(returnId.toLowerCase());
    return { twiml: HANGUP };
  }
  const refused = env.refusal();
  if (refused) {
    env.returning.drop(returnId.toLowerCase());
    return { twiml: refused };
  }
  return { twiml: env.connect(form, { [RETURN_PARAMETER]: returnId.toLowerCase() }) };
}
