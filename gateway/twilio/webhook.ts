/**
 * Twilio: the voice webhook (`POST /twilio/voice`, answers TwiML that connects the call to TOM's media
 * stream), the status callback (`POST /twilio/status`, records how a call ended), the transfer's Dial
 * action (`POST /twilio/dial`, dial_result.ts: a caller nobody answered comes back to TOM) and the Media
 * Streams socket (`WS /twilio/stream`, stream.ts).
 *
 * The routes exist only when `twilio.authToken` is set (otherwise every one answers 404: unsigned Twilio
 * traffic is never accepted). Every request must come from an allowed telephony peer (the guard; Twilio
 * normally reaches TOM through a TLS reverse proxy on the same box) and carry a valid
 * `X-Twilio-Signature` (twilio_signature.ts) over the URL Twilio requested: `twilio.publicUrl` plus the
 * path and query. A missing or wrong signature gets 403, is counted in
 * `tom_twilio_signature_failures_total` and logged with the route and the peer's label only.
 *
 * The stream's upgrade signature is the same for every call, so the TwiML also hands the stream a call
 * token (`<Parameter name="tom_stream_token">`, bound to the CallSid and the other parameters); a `start`
 * whose token does not fit its CallSid, is older than {@linkcode STREAM_TOKEN_MAX_AGE_MS} or names a
 * CallSid that already had a stream is refused (close 1008, counted with route "stream"); the one exception
 * is a caller back from a transfer, whose new TwiML carries a return id: one stream per CallSid and id.
 *
 * Twilio console set-up: the number's voice webhook `POST {publicUrl}/twilio/voice`, status callback
 * `POST {publicUrl}/twilio/status`. The Dial action URL is built from the same public URL.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import { ConfigError } from "../../infra/mod.ts";
import type { Logger } from "../../infra/mod.ts";
import { endCall, findCallByExternalId, getCall, listAccounts } from "../../store/mod.ts";
import type { CallEndStatus } from "../../store/mod.ts";
import type { GatewayDeps } from "../call/session.ts";
import { admit, type Guard, remoteAddress, upgradeWebSocket } from "../guard/mod.ts";
import { MediaSockets } from "../call/media_sockets.ts";
import {
  STREAM_TOKEN_PARAMETER,
  streamToken,
  streamTokenProblem,
  verifyTwilioSignature,
} from "./signature.ts";
import { TwilioStreamCall, type TwilioStreamOptions } from "./stream.ts";
import { connectStreamTwiml, type TwilioStart } from "./wire.ts";
import { isSafeId } from "../outbound/attach.ts";
import { ReturningCalls } from "../call/returning.ts";
import { DIAL_ACTION_PATH, dialResult, RETURN_PARAMETER } from "./dial_result.ts";

/** Routes. */
export const TWILIO_PATHS = {
  voice: "/twilio/voice",
  status: "/twilio/status",
  dial: DIAL_ACTION_PATH,
  stream: "/twilio/stream",
} as const;
/** How long the call token of a TwiML answer is good for: Twilio opens the stream at once. */
export const STREAM_TOKEN_MAX_AGE_MS = 5 * 60_000;
/** Largest webhook body accepted (Twilio's forms are a few KiB). */
const MAX_FORM_BYTES = 64 * 1024;

/** Options of {@linkcode mountTwilio}. */
export type TwilioOptions = TwilioStreamOptions;

/** The mounted transport. */
export interface TwilioTransport {
  /** Open media streams. */
  readonly size: number;
  /** Hang up every open stream (shutdown). */
  close(): void;
}

/** Problems with `twilio.publicUrl`, as `key (ENV): what is wrong` lines. */
export function twilioConfigProblems(config: GatewayDeps["config"]): string[] {
  const u = config.twilio.publicUrl;
  if (u === "") return [];
  try {
    const p = new URL(u);
    if (p.protocol === "https:" || p.protocol === "http:") return [];
  } catch { /* below */ }
  return [
    `twilio.publicUrl (TOM_TWILIO_PUBLIC_URL): expected an http(s) URL such as https://tom.praxis.example`,
  ];
}

/** The public base URL (no trailing slash) Twilio uses, or the request's own origin when none is configured. */
export function publicBase(c: Context, config: GatewayDeps["config"]): string {
  if (config.twilio.publicUrl) return config.twilio.publicUrl.replace(/\/+$/, "");
  const proto = c.req.header("x-forwarded-proto") === "https" ? "https:" : new URL(c.req.url).protocol;
  const host = c.req.header("x-forwarded-host") ?? c.req.header("host") ?? new URL(c.req.url).host;
  return `${proto}//${host}`;
}

/**
 * Mount Twilio's routes on `app`.
 *
 * @param guard the shared front door (default: one built from `deps.config`)
 * @throws {ConfigError} when `twilio.publicUrl` is set but not an http(s) URL
 */
export function mountTwilio(
  app: Hono,
  deps: GatewayDeps,
  guard?: Guard,
  opts: TwilioOptions = {},
): TwilioTransport {
  const problems = twilioConfigProblems(deps.config);
  if (problems.length > 0) throw new ConfigError(problems);
  const token = deps.config.twilio.authToken;
  if (token === "") {
    // Only worth a warning when Twilio seems meant to be in use; on a FreeSWITCH/Asterisk box it is normal.
    const inUse = deps.config.twilio.publicUrl !== "" || deps.config.twilio.accountSid !== "";
    const log = deps.log.child({ component: "gateway", transport: "twilio" });
    (inUse ? log.warn : log.info)(
      "Twilio is off (its routes answer 404): set twilio.authToken (TOM_TWILIO_AUTH_TOKEN) to use it",
    );
    return { size: 0, close() {} };
  }
  const open = new MediaSockets<TwilioStreamCall>(deps, "twilio", guard);
  const { guard: g, log } = open;
  const failures = deps.meter.createCounter("tom_twilio_signature_failures_total", {
    description: "Twilio requests refused for a missing or wrong X-Twilio-Signature, by route and reason",
  });
  const live = new Map<string, TwilioStreamCall>();
  const now = deps.now ?? Date.now;
  /** CallSids that had a stream, until their token has expired anyway. */
  const streamed = new Map<string, number>();
  const admitStart = (start: TwilioStart["start"]): string | undefined => {
    const sid = deps.config.twilio.accountSid;
    let reason: string | undefined = sid && start.accountSid && start.accountSid !== sid
      ? "other_account"
      : streamTokenProblem(
        token,
        start.callSid,
        start.customParameters ?? {},
        now(),
        STREAM_TOKEN_MAX_AGE_MS,
      );
    // A caller back from a transfer has the same CallSid: one more stream per return id.
    const back = start.customParameters?.[RETURN_PARAMETER];
    const key = typeof back === "string" && back !== ""
      ? `${start.callSid ?? ""} ${back}`
      : start.callSid ?? "";
    for (const [k, until] of streamed) if (until < now()) streamed.delete(k);
    if (!reason && streamed.has(key)) reason = "replayed";
    if (reason) {
      failures.add(1, { route: "stream", reason });
      return reason;
    }
    if (streamed.size < 100_000) streamed.set(key, now() + STREAM_TOKEN_MAX_AGE_MS);
    return undefined;
  };
  // Return ids outlive the longest ring time (twilio.transferRingSeconds) by two minutes.
  const returning = opts.returning ??
    new ReturningCalls({
      ttlMs: Math.max(5 * 60_000, (deps.config.twilio.transferRingSeconds + 120) * 1000),
    });
  const env = { deps, log, opts, live, admitStart, returning };

  /** Signature check; undefined when fine, else the 403 to return. */
  const checkSignature = (c: Context, route: string, urls: string[], params?: URLSearchParams) => {
    const sig = c.req.header("x-twilio-signature");
    if (verifyTwilioSignature(token, sig, urls, params)) return undefined;
    const reason = sig ? "invalid" : "missing";
    failures.add(1, { route, reason });
    log.warn("Twilio request refused: signature", { route, reason, peer: g.peerLabel(remoteAddress(c)) });
    return c.json({ error: "Invalid Twilio signature" }, 403);
  };

  const readForm = async (c: Context, route: string): Promise<URLSearchParams | Response> => {
    if (!g.checkPeer(remoteAddress(c), "twilio")) return c.json({ error: "Peer not allowed" }, 403);
    const text = await readCapped(c.req.raw, MAX_FORM_BYTES);
    if (text === undefined) return c.json({ error: "Request too large" }, 413);
    const params = new URLSearchParams(text);
    const u = new URL(c.req.url);
    const refused = checkSignature(
      c,
      route,
      [publicBase(c, deps.config) + u.pathname + u.search, u.href],
      params,
    );
    if (refused) return refused;
    const sid = deps.config.twilio.accountSid;
    if (sid && params.get("AccountSid") && params.get("AccountSid") !== sid) {
      log.warn("Twilio request refused: another account", { route });
      return c.json({ error: "Unknown account" }, 403);
    }
    return params;
  };

  /** The TwiML refusing a call TOM cannot take now, or undefined. */
  const refusal = (): string | undefined => {
    const why = deps.calls.draining ? "draining" : deps.calls.full ? "full" : undefined;
    if (!why) return undefined;
    // Overflow goes to a person: the practice's fallback number, else busy (the carrier's own handling).
    g.reject("twilio", why);
    const fallback = deps.config.twilio.fallbackNumber;
    return fallback
      ? `<?xml version="1.0" encoding="UTF-8"?><Response><Dial>${fallback}</Dial></Response>`
      : '<?xml version="1.0" encoding="UTF-8"?><Response><Reject reason="busy"/></Response>';
  };
  /**
   * The TwiML connecting the call of `form` (a signed Twilio request) to TOM's stream: the caller and the
   * callee, `extra`, and the call token over them.
   */
  const connect = (c: Context, form: URLSearchParams, extra: Record<string, string>): string => {
    const parameters: Record<string, string> = {};
    const from = form.get("From");
    const to = form.get("To");
    if (from) parameters.from = from.slice(0, 64);
    if (to) parameters.to = to.slice(0, 64);
    Object.assign(parameters, extra);
    const callSid = form.get("CallSid") ?? "";
    const streamUrl = publicBase(c, deps.config).replace(/^http/, "ws") + TWILIO_PATHS.stream;
    parameters[STREAM_TOKEN_PARAMETER] = streamToken(token, callSid, parameters, now());
    return connectStreamTwiml(streamUrl, parameters);
  };
  const xml = (c: Context, body: string) => c.body(body, 200, { "Content-Type": "text/xml; charset=utf-8" });

  app.post(TWILIO_PATHS.voice, async function twilioVoice(c) {
    const params = await readForm(c, "voice");
    if (params instanceof Response) return params;
    const refused = refusal();
    if (refused) return xml(c, refused);
    const callSid = params.get("CallSid") ?? "";
    if (!/^CA[0-9a-zA-Z]{1,62}$/.test(callSid)) return c.json({ error: "Missing or invalid CallSid" }, 400);
    const callId = c.req.query("call");
    const accountId = c.req.query("account");
    const placed: Record<string, string> = isSafeId(callId) && isSafeId(accountId)
      ? { tom_call_id: callId, tom_account_id: accountId }
      : {};
    return xml(c, connect(c, params, placed));
  });

  const results = deps.meter.createCounter("tom_twilio_transfer_results_total", {
    description: "Twilio transfers by how the person's phone answered (the Dial action's DialCallStatus)",
  });
  app.post(TWILIO_PATHS.dial, async function twilioDial(c) {
    const params = await readForm(c, "dial");
    if (params instanceof Response) return params;
    const env = { returning, results, log, refusal, connect: connect.bind(null, c) };
    const answer = dialResult(env, params, c.req.query("return"));
    return "error" in answer ? c.json({ error: answer.error }, 400) : xml(c, answer.twiml);
  });

  app.post(TWILIO_PATHS.status, async function twilioStatus(c) {
    const params = await readForm(c, "status");
    if (params instanceof Response) return params;
    recordStatus(deps, log, live, params, c.req.query("call"), c.req.query("account"));
    return c.body(null, 204);
  });

  app.get(TWILIO_PATHS.stream, async function twilioStream(c) {
    await open.ready();
    const slot = admit(c, g, "twilio");
    if (slot instanceof Response) return slot;
    const u = new URL(c.req.url);
    const base = publicBase(c, deps.config);
    const urls = [base + u.pathname + u.search, u.href].flatMap((x) => [
      x.replace(/^http/, "ws"),
      x.replace(/^ws/, "http"),
    ]);
    const refused = checkSignature(c, "stream", urls);
    if (refused) {
      slot.release();
      return refused;
    }
    const up = upgradeWebSocket(c, slot, g, "twilio");
    return up instanceof Response ? up : open.register(up, new TwilioStreamCall(up.socket, env, base));
  });

  return {
    get size() {
      return open.size;
    },
    close: () => void open.hangupAll(),
  };
}

/** The body as text, or undefined when it is longer than `max` bytes (read no further than that). */
async function readCapped(req: Request, max: number): Promise<string | undefined> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > max) return undefined;
  if (!req.body) return "";
  const parts: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel();
      return undefined;
    }
    parts.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return new TextDecoder().decode(all);
}

const END_STATES: Record<string, { status: CallEndStatus; reason?: string }> = {
  "completed": { status: "completed" },
  "busy": { status: "busy", reason: "Twilio: busy" },
  "no-answer": { status: "no_answer", reason: "Twilio: no answer" },
  "failed": { status: "failed", reason: "Twilio: failed" },
  "canceled": { status: "failed", reason: "Twilio: canceled" },
};

/** Record a status callback on its call (by `?call=&account=` for calls TOM placed, else by CallSid). */
function recordStatus(
  deps: GatewayDeps,
  log: Logger,
  live: Map<string, TwilioStreamCall>,
  params: URLSearchParams,
  callId: string | undefined,
  accountId: string | undefined,
): void {
  const callStatus = params.get("CallStatus") ?? "";
  const end = END_STATES[callStatus];
  if (!end) return; // queued, initiated, ringing, in-progress: nothing to record
  const callSid = params.get("CallSid") ?? "";
  let target: { accountId: string; id: string } | undefined;
  if (isSafeId(callId) && isSafeId(accountId) && getCall(deps.store, accountId, callId)) {
    target = { accountId, id: callId };
  } else if (callSid) {
    for (const a of listAccounts(deps.store)) {
      const row = findCallByExternalId(deps.store, a.id, "twilio", callSid);
      if (row) {
        target = { accountId: a.id, id: row.id };
        break;
      }
    }
  }
  if (!target) {
    log.debug("Twilio status for a call TOM does not know", { status: callStatus });
    return;
  }
  // A call whose stream is still open ends with its stream (the session records it).
  if (end.status === "completed" && callSid && live.has(callSid)) return;
  const code = params.get("ErrorCode") ?? params.get("SipResponseCode");
  const reason = end.reason && code && /^\d{1,6}$/.test(code) ? `${end.reason} (code ${code})` : end.reason;
  const changed = endCall(deps.store, target.accountId, target.id, {
    status: end.status,
    at: (deps.now ?? Date.now)(),
    ...(reason ? { failureReason: reason } : {}),
  });
  if (changed) log.info("Twilio call status recorded", { call_id: target.id, status: end.status });
}
