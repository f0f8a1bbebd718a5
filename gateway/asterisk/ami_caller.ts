/**
 * The caller's number of an Asterisk call, asked of Asterisk through AMI when the call reaches TOM.
 * Neither AudioSocket nor chan_websocket carries the caller ID: AudioSocket's first message is only the
 * UUID, chan_websocket's `MEDIA_START` only the channel and its format. One `Action: Status` lists every
 * channel with its `CallerIDNum`:
 * - AudioSocket: the caller's channel is the one running `AudioSocket(<uuid>,...)` or
 *   `Dial(AudioSocket/host:port/<uuid>/...)` (its `Data` holds the UUID), as for the transfer
 *   (ami_transfer.ts).
 * - chan_websocket: the WebSocket channel was created by `Dial()` on the caller's channel, and Dial sets
 *   the outgoing channel's connected line to the dialling channel's caller ID (`ConnectedLineNum`);
 *   failing that, the channel that began the call, its `Linkedid` (the first channel's `Uniqueid`).
 *
 * Asterisk writes `<unknown>` (or nothing) for a withheld number; that, and anything that is not a phone
 * number's characters, gives undefined. The number is what the network says, never proof of who calls.
 *
 * @module
 */
import type { AmiMessage } from "./ami_wire.ts";
import type { AmiLink, AsteriskCallRef } from "./ami_transfer.ts";

/** Digits with an optional leading `+` (national, international or E.164 as Asterisk got it). */
const NUMBER = /^\+?\d{3,20}$/;

/** A caller ID field's number, or undefined for `<unknown>`, empty or odd values. */
export function callerNumberOf(value: string | undefined): string | undefined {
  const v = (value ?? "").replace(/[\s\-/()]/g, "");
  return NUMBER.test(v) ? v : undefined;
}

/**
 * The caller's number for `call` from one `Status` list, or undefined when Asterisk has none (withheld,
 * AMI down, no such channel). Never throws.
 *
 * @param timeoutMs bound of the AMI action: the call waits for it before TOM answers
 */
export async function amiCallerNumber(
  ami: Pick<AmiLink, "action" | "state">,
  call: AsteriskCallRef,
  timeoutMs = 500,
): Promise<string | undefined> {
  if (ami.state !== "connected") return undefined;
  let events: AmiMessage[];
  try {
    events = (await ami.action({ Action: "Status" }, timeoutMs)).events;
  } catch {
    return undefined;
  }
  const statuses = events.filter((e) => e.Event === "Status");
  if (call.transport === "audiosocket") {
    const hit = statuses.find((e) =>
      /^(AudioSocket|Dial)$/i.test(e.Application ?? "") &&
      (e.Data ?? e.ApplicationData ?? "").includes(call.uuid)
    );
    return callerNumberOf(hit?.CallerIDNum);
  }
  const ws = statuses.find((e) => e.Channel === call.channel);
  if (!ws) return undefined;
  const caller = statuses.find((e) => e.Uniqueid !== undefined && e.Uniqueid === ws.Linkedid && e !== ws);
  return callerNumberOf(ws.ConnectedLineNum) ?? callerNumberOf(caller?.CallerIDNum);
}
