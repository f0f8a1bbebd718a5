/**
 * The live feed: wraps every call's output (like the recorder and the usage counter do) and publishes the
 * call's start (`connected`), its pipeline events (`vad`, `stt_final`, `llm_token`, `tts_audio`,
 * `barge_in`, `turn_end`, `error`, `say`, `tool_call`, `request_noted`) and its end (`call_end`) to the {@linkcode LiveHub}, under the call's
 * account. The composition root applies it to every call (GatewayDeps.watch). A call's `transfer` events
 * also go to the account's inbox hub (ui/inbox.ts), so /requests shows who is coming and why, and its
 * end (`transfer_end`) once a transfer was announced.
 *
 * What staff may see, and nothing more: no phone numbers, except on a transfer (staff about to take the
 * caller see the number and the name it matches, marked as unproven; the call's start carries only
 * transport and direction); spoken text (caller's and TOM's) only when the caller consented to transcripts, as on the
 * call's detail page, which shows only transcripts stored with that consent; audio never, only its
 * duration. TOM's tokens, and the audio chunks of each spoken sentence, are gathered and published at
 * most every `tokenFlushMs` per call (and before any other event), so a fast LLM or TTS does not flood
 * the pages: one `llm_token` per burst of tokens, one `tts_audio` per sentence.
 *
 * @module
 */
import {
  type CallOutput,
  type CallWatch,
  type CallWatcher,
  type PipelineEvent,
  tapOutput,
  type TransferCaller,
  type WatchedCall,
} from "../gateway/mod.ts";
import type { LiveHub } from "./live.ts";
import { publishTransfer, publishTransferEnd } from "./inbox.ts";

/** Options of {@linkcode liveFeed}. */
export interface LiveFeedOptions {
  /** Whether the call's caller consented to transcripts (asked when the call starts and at each turn). */
  transcripts(accountId: string, callId: string): boolean;
  /** Gather TOM's tokens (and speech chunks) this long before publishing them as one event (default 250 ms). */
  tokenFlushMs?: number;
  /** Clock for the events' `at` (default Date.now). */
  now?: () => number;
  /** The inbox's hub: a call's transfer events are forwarded to it as well (ui/inbox.ts). */
  inbox?: LiveHub;
}

const clip = (s: string, n: number) => (s.length > n ? s.slice(0, n) : s);

/** The watcher that feeds `hub` from every call. */
export function liveFeed(hub: LiveHub, opts: LiveFeedOptions): CallWatcher {
  return (call, output) => new LiveCall(hub, opts, call, output);
}

/** Pieces of one kind (tokens, speech chunks) gathered into one event, published after `ms` or on flush. */
class Gather<T> {
  item: T | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  constructor(readonly ms: number, readonly out: (item: T) => void) {}

  /** The item to add to (started with `start` when none), with the flush timer running. */
  add(start: () => T): T {
    this.item ??= start();
    this.#timer ??= setTimeout(() => this.flush(), this.ms);
    return this.item;
  }

  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const item = this.item;
    this.item = undefined;
    if (item) this.out(item);
  }
}

/** One call as the feed follows it. */
class LiveCall implements CallWatch {
  readonly output: CallOutput;
  readonly #hub: LiveHub;
  readonly #call: WatchedCall;
  readonly #now: () => number;
  readonly #consent: () => boolean;
  #text: boolean;
  readonly #tokens: Gather<{ turn: number; text: string; count: number }>;
  readonly #speech: Gather<{ turn: number; text: string; durationMs: number; chunks: number }>;
  #ended = false;
  readonly #inbox: LiveHub | undefined;
  /** Whether a transfer of this call reached the inbox (then its end does too). */
  #toInbox = false;

  constructor(hub: LiveHub, opts: LiveFeedOptions, call: WatchedCall, output: CallOutput) {
    this.#hub = hub;
    this.#call = call;
    this.#inbox = opts.inbox;
    this.#now = opts.now ?? Date.now;
    const ms = opts.tokenFlushMs ?? 250;
    this.#tokens = new Gather(
      ms,
      (t) =>
        this.#publish("llm_token", { turn: t.turn, tokens: t.count, ...this.#said("token", t.text, 2_000) }),
    );
    this.#speech = new Gather(ms, (t) =>
      this.#publish("tts_audio", {
        turn: t.turn,
        durationMs: Math.round(t.durationMs),
        chunks: t.chunks,
        ...this.#said("text", t.text, 2_000),
      }));
    this.#consent = () => {
      try {
        return opts.transcripts(call.accountId, call.callId);
      } catch {
        return false; // unknown: show no text
      }
    };
    this.#text = this.#consent();
    this.output = tapOutput(output, { event: (e) => this.#event(e) });
    this.#publish("connected", { transport: call.transport, direction: call.direction });
  }

  end(info: { reason: string; status: "completed" | "failed"; durationMs: number }): void {
    if (this.#ended) return;
    this.#flush();
    this.#publish("call_end", {
      reason: clip(info.reason, 200),
      status: info.status,
      durationMs: info.durationMs,
    });
    this.#ended = true;
    if (this.#inbox && this.#toInbox && this.#call.accountId) {
      publishTransferEnd(this.#inbox, this.#call.accountId, this.#call.callId, this.#now);
    }
  }

  #publish(type: string, data: Record<string, unknown>): void {
    if (this.#ended) return;
    this.#hub.publish({
      accountId: this.#call.accountId,
      callId: this.#call.callId,
      type,
      at: this.#now(),
      data,
    });
  }

  /** Spoken text, when the caller consented to transcripts. */
  #said(key: string, text: string | undefined, n: number): Record<string, string> {
    return this.#text && text ? { [key]: clip(text, n) } : {};
  }

  #event(e: PipelineEvent): void {
    if (e.type === "llm_token") return this.#token(e.turn, e.token);
    if (e.type === "tts_audio") return this.#chunk(e.turn, e.text, e.durationMs);
    this.#flush();
    switch (e.type) {
      case "vad":
        return this.#publish("vad", { state: e.state, atMs: e.atMs });
      case "stt_final":
        this.#text = this.#consent(); // consent withdrawn during the call counts from the next turn
        return this.#publish("stt_final", { turn: e.turn, ...this.#said("text", e.text, 2_000) });
      case "barge_in":
        return this.#publish("barge_in", {
          turn: e.turn,
          atMs: e.atMs,
          ...this.#said("heardText", e.heardText, 2_000),
        });
      case "turn_end":
        return this.#publish("turn_end", {
          turn: e.turn,
          interrupted: e.interrupted,
          latencies: { ...e.latencies },
        });
      case "error":
        return this.#publish("error", { code: e.code, message: clip(e.message, 500) });
      case "say": // TOM's fixed phrase may repeat what the caller said (a read-back): text only with consent
        return this.#publish("say", this.#said("text", e.text, 2_000));
      case "tool_call":
        return this.#publish("tool_call", {
          turn: e.turn,
          name: clip(e.name, 64),
          accepted: e.accepted,
          ...(e.reason === undefined ? {} : { reason: clip(e.reason, 500) }),
        });
      case "request_noted":
        return this.#publish("request_noted", { requestId: e.requestId, kind: e.kind, urgency: e.urgency });
      case "transfer":
        // Staff must see who is coming and why before they answer: the summary is what a request would
        // hold (staff see requests of every caller), not the transcript.
        this.#transferToInbox(e.reason, e.outcome, e.summary, e.caller);
        return this.#publish("transfer", {
          reason: e.reason,
          targetKind: e.targetKind,
          outcome: e.outcome,
          ...(e.detail === undefined ? {} : { detail: clip(e.detail, 200) }),
          ...(e.summary === undefined ? {} : { summary: clip(e.summary, 500) }),
          ...(e.caller === undefined ? {} : { caller: e.caller }),
        });
      case "emergency":
        return this.#publish("emergency", { flag: clip(e.flag, 64), label: clip(e.label, 200) });
    }
  }

  /** Forward a transfer to the account's inbox (calls without a known account reach nobody). */
  #transferToInbox(
    reason: string,
    outcome: string,
    summary: string | undefined,
    caller: TransferCaller | undefined,
  ): void {
    const accountId = this.#call.accountId;
    if (!this.#inbox || !accountId || this.#ended) return;
    this.#toInbox = true;
    publishTransfer(this.#inbox, accountId, {
      callId: this.#call.callId,
      reason,
      outcome,
      ...(summary === undefined ? {} : { summary: clip(summary, 500) }),
      ...(caller === undefined ? {} : { caller }),
    }, this.#now);
  }

  #token(turn: number, token: string): void {
    if (this.#tokens.item && this.#tokens.item.turn !== turn) this.#tokens.flush();
    const t = this.#tokens.add(() => ({ turn, text: "", count: 0 }));
    t.count++;
    if (this.#text && t.text.length < 2_000) t.text += token;
  }

  /** A chunk of TOM's speech; a chunk with text starts a new sentence. */
  #chunk(turn: number, text: string | undefined, durationMs: number): void {
    const g = this.#speech;
    if (g.item && (g.item.turn !== turn || text)) g.flush();
    const t = g.add(() => ({ turn, text: text ?? "", durationMs: 0, chunks: 0 }));
    t.durationMs += durationMs;
    t.chunks++;
  }

  /** Publish what was gathered (before any other event, so the page keeps the order). */
  #flush(): void {
    this.#tokens.flush();
    this.#speech.flush();
  }
}
