/**
 * Twilio Media Streams messages (protocols.md section 3): all JSON text. Inbound `connected`, `start`,
 * `media`, `dtmf`, `mark`, `stop` are parsed leniently (Twilio adds fields over time; `sequenceNumber`,
 * `chunk`, `timestamp` are strings); outbound `media`, `mark`, `clear` are built here.
 *
 * @module
 */
import { z } from "zod";

const Sid = z.string().min(1).max(64);

const Start = z.object({
  event: z.literal("start"),
  streamSid: Sid.optional(),
  start: z.object({
    streamSid: Sid,
    callSid: Sid.optional(),
    accountSid: Sid.optional(),
    tracks: z.array(z.string()).optional(),
    customParameters: z.record(z.string(), z.unknown()).optional(),
    mediaFormat: z.object({
      encoding: z.string().optional(),
      sampleRate: z.number().optional(),
      channels: z.number().optional(),
    }).optional(),
  }),
});

const Media = z.object({
  event: z.literal("media"),
  media: z.object({
    track: z.string().optional(),
    payload: z.string().max(65_536),
  }),
});

const Dtmf = z.object({
  event: z.literal("dtmf"),
  dtmf: z.object({ digit: z.string().regex(/^[0-9A-Da-d*#]$/), track: z.string().optional() }),
});

const Mark = z.object({ event: z.literal("mark"), mark: z.object({ name: z.string().max(256) }) });
const Stop = z.object({ event: z.literal("stop") });
const Connected = z.object({ event: z.literal("connected") });

/** One inbound message. */
export const TwilioInbound = z.discriminatedUnion("event", [Connected, Start, Media, Dtmf, Mark, Stop]);
/** A parsed inbound message. */
export type TwilioInbound = z.infer<typeof TwilioInbound>;
/** A parsed `start` message. */
export type TwilioStart = z.infer<typeof Start>;

/** Parse a text frame; undefined when it is not a Media Streams message TOM understands. */
export function parseTwilioMessage(text: string): TwilioInbound | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const r = TwilioInbound.safeParse(json);
  return r.success ? r.data : undefined;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decode standard base64; undefined when malformed. */
export function decodeBase64(s: string): Uint8Array | undefined {
  if (s.length % 4 !== 0 || !BASE64.test(s)) return undefined;
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Encode bytes as standard base64. */
export function encodeBase64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x2000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x2000));
  }
  return btoa(bin);
}

/** `{"event":"media","streamSid":..,"media":{"payload":..}}` */
export function mediaMessage(streamSid: string, mulaw: Uint8Array): string {
  return JSON.stringify({ event: "media", streamSid, media: { payload: encodeBase64(mulaw) } });
}

/** `{"event":"mark","streamSid":..,"mark":{"name":..}}` */
export function markMessage(streamSid: string, name: string): string {
  return JSON.stringify({ event: "mark", streamSid, mark: { name } });
}

/** `{"event":"clear","streamSid":..}` */
export function clearMessage(streamSid: string): string {
  return JSON.stringify({ event: "clear", streamSid });
}

/** Escape text for an XML attribute value. */
export function xmlAttr(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The TwiML that connects a call to TOM's media stream:
 * `<Response><Connect><Stream url="..."><Parameter name=".." value=".."/></Stream></Connect></Response>`.
 */
export function connectStreamTwiml(streamUrl: string, parameters: Record<string, string> = {}): string {
  const params = Object.entries(parameters)
    .map(([k, v]) => `<Parameter name="${xmlAttr(k)}" value="${xmlAttr(v)}"/>`)
    .join("");
  return `<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="${
    xmlAttr(streamUrl)
  }">${params}</Stream></Connect></Response>`;
}
