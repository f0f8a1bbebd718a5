/**
 * The live parts of the "Anliegen" inbox: a second {@linkcode LiveHub} (the Live page's mechanism, one
 * channel per account) carries `request_noted` (a request arrived: id, kind, urgency, and the open count)
 * and `request_count` (staff changed a request: the open count). Nothing personal travels on it: pages
 * fetch what they show from the session-authenticated API. The one exception is a call being transferred
 * to staff (`transfer` {callId, reason, outcome, summary?}, then `transfer_end` {callId} when the call
 * ends), forwarded by the live feed: staff see who is coming and why before they answer, and the summary
 * is what a request of that call would hold. GET /api/live/inbox streams it.
 *
 * @module
 */
import { countOpenRequests, type RequestKind, type RequestUrgency, type Store } from "../store/mod.ts";
import { LiveHub } from "./live.ts";
import type { TransferCaller } from "../gateway/mod.ts";

/** The hub's channel name (its `callId`): the inbox is one stream per account, not per call. */
export const INBOX_CHANNEL = "requests";

/** A hub for the inbox: it keeps no history (each page gets the count fresh when it connects). */
export function inboxHub(): LiveHub {
  return new LiveHub({ keepPerCall: 1, maxCalls: 1 });
}

/** What the inbox's stream says about a request that arrived. */
export interface NotedRequest {
  id: string;
  kind: RequestKind;
  urgency: RequestUrgency;
}

/** Publish that a stored request arrived, with the account's open count. */
export function publishRequestNoted(
  hub: LiveHub,
  store: Store,
  accountId: string,
  r: NotedRequest,
  now: () => number = Date.now,
): void {
  hub.publish({
    accountId,
    callId: INBOX_CHANNEL,
    type: "request_noted",
    at: now(),
    data: { id: r.id, kind: r.kind, urgency: r.urgency, open: countOpenRequests(store, accountId) },
  });
}

/** Publish the account's open count (after staff changed a request). */
export function publishRequestCount(
  hub: LiveHub,
  store: Store,
  accountId: string,
  now: () => number = Date.now,
): void {
  hub.publish({
    accountId,
    callId: INBOX_CHANNEL,
    type: "request_count",
    at: now(),
    data: { open: countOpenRequests(store, accountId) },
  });
}

/** What the inbox's stream says about a call being transferred to staff (the pipeline's `transfer`). */
export interface InboxTransfer {
  callId: string;
  reason: string;
  outcome: string;
  summary?: string;
  /** Who is being put through (name, number, identity level): staff of the account only. */
  caller?: TransferCaller;
}

/** Publish a call's transfer (started, connected or failed) to its account's inbox. */
export function publishTransfer(
  hub: LiveHub,
  accountId: string,
  t: InboxTransfer,
  now: () => number = Date.now,
): void {
  hub.publish({
    accountId,
    callId: INBOX_CHANNEL,
    type: "transfer",
    at: now(),
    data: {
      callId: t.callId,
      reason: t.reason,
      outcome: t.outcome,
      ...(t.summary === undefined ? {} : { summary: t.summary }),
      ...(t.caller === undefined ? {} : { caller: t.caller }),
    },
  });
}

/** Publish that a call whose transfer was announced ended (the pages drop its notice). */
export function publishTransferEnd(
  hub: LiveHub,
  accountId: string,
  callId: string,
  now: () => number = Date.now,
): void {
  hub.publish({ accountId, callId: INBOX_CHANNEL, type: "transfer_end", at: now(), data: { callId } });
}
