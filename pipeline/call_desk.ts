/**
 * The practice's desk in one call: what TOM does for the practice beside the conversation. It notes
 * requests (sealed by the answerer, announced to the staff), asks for a callback number (the number dialogue,
 * callback_number.ts), hands the caller to a person (the transport's transfer, bounded, its outcome back to the
 * machine) and answers a red flag (the emergency noted for the team). The call's state machine (state.ts)
 * decides when; the call (call_pipeline.ts) hands the desk its effects and lends it the few things it needs
 * ({@linkcode DeskHost}).
 *
 * @module
 */
import {
  type CallContext,
  emitPipelineEvent,
  PIPELINE_RATE,
  type TransferCaller,
  type TransferTo,
} from "../gateway/mod.ts";
import type { TtsEngine } from "./engines/types.ts";
import { briefingText, transferBriefing } from "./briefing.ts";
import type { PipelineMetrics } from "./metrics.ts";
import { type PhraseCache, synthesizeAll } from "./phrases.ts";
import type { NoteRequest } from "./tools.ts";
import { NOTE_FAILED, NUMBER_GIVEN_UP, readBack } from "./read_back.ts";
import { type NumberDialogue, numberDialogue } from "./callback_number.ts";
import { RED_FLAG_LABELS, type RedFlag } from "./red_flags.ts";
import type { CallInput, CallState, HandoverReason, NumberReason, RatingEvent } from "./state.ts";
import { type PhraseName, PHRASES } from "./texts.ts";

/** Where a call's requests go (the answerer stores them encrypted and tells the staff). */
export interface CallRequests {
  /**
   * Store one request of this call.
   *
   * @returns the stored request's id
   * @throws when it could not be stored
   */
  note(note: NoteRequest): Promise<string>;
}

/** What the desk needs from the call's dependencies. */
export interface DeskDeps {
  requests?: CallRequests;
  /** The caller's number in E.164, as the transport gave it (offered to the caller before use). */
  callerId?: string | null;
  /** Who is calling, for the staff who take a transfer (name and number as far as TOM knows). */
  caller?: TransferCaller;
  transferTarget?: () => TransferTo | null;
  transferTimeoutMs?: number;
  metrics?: PipelineMetrics;
  tts: TtsEngine;
  phrases: PhraseCache;
  ttsTimeoutMs: number;
}

/** What the call lends the desk. */
export interface DeskHost {
  readonly ctx: CallContext;
  now(): number;
  /** Call time in ms. */
  at(): number;
  input(input: CallInput): void;
  state(): CallState;
  /** Ask for the mark of a phrase (the machine hears `phrase_played` when it was played). */
  mark(phrase: PhraseName): void;
  ended(): boolean;
  setEnding(ending: "callback" | "transfer" | "hangup"): void;
  /** What the caller said last. */
  lastCallerText(): string;
}

/** The desk of one call. */
export class CallDesk {
  readonly #h: DeskHost;
  readonly #d: DeskDeps;
  /** The requests stored in this call. */
  readonly noted: NoteRequest[] = [];
  number: NumberDialogue | null = null;
  /** The number dialogue's question is playing (an answer during it cuts it). */
  numberPlaying = false;
  /** The note waiting for its callback number (the model's, or the one for a failed call). */
  pendingNote: NoteRequest | null = null;
  /** Why the caller wanted a person (the tool's reason), for the callback note when no transfer happens. */
  handoverWhy = "";
  /** The words that fired the red flag, for the emergency request (kept only for that note). */
  redFlagText = "";

  constructor(host: DeskHost, deps: DeskDeps) {
    this.#h = host;
    this.#d = deps;
  }

  /** One step of the callback number dialogue; when it is done, note the request and say so (or not). */
  numberStep(event: RatingEvent, reason: NumberReason): void {
    if (event.type === "start") {
      this.number = numberDialogue({ callerId: this.#d.callerId ?? null });
      if (reason === "failure") {
        this.#h.setEnding("callback");
        this.pendingNote ??= failureNote(this.#h.state().heldText || this.#h.lastCallerText());
      } else if (reason === "transfer") {
        this.pendingNote ??= transferNote(this.handoverWhy || this.#h.lastCallerText());
      }
    }
    const dialogue = this.number;
    if (!dialogue) return;
    let step: ReturnType<NumberDialogue["step"]> = { done: true, number: null };
    try {
      step = dialogue.step(event);
    } catch (e) {
      this.#h.ctx.log.error("number dialogue failed", { error: e });
    }
    if (step.say && this.numberPlaying && event.type !== "start") this.#h.ctx.output.clear();
    if (!step.done) {
      if (step.say) {
        this.numberPlaying = true;
        this.sayText(step.say, event.type === "start" ? "askNumber" : "askNumberAgain");
      }
      this.#h.input({
        type: "number_said",
        at: this.#h.at(),
        speaking: step.say !== undefined,
        done: false,
        close: false,
      });
      return;
    }
    this.number = null;
    const close = reason === "failure";
    const pending = this.pendingNote;
    this.pendingNote = null;
    const finish = (text: string, as: PhraseName) => {
      this.sayText(text, as);
      this.#h.input({ type: "number_said", at: this.#h.at(), speaking: true, done: true, close });
    };
    if (!step.number || !pending) {
      this.#h.ctx.log.info("no callback number", { reason });
      return close
        ? finish(PHRASES.noNumberGoodbye, "noNumberGoodbye")
        : finish(NUMBER_GIVEN_UP, "askNumberAgain");
    }
    const note: NoteRequest = { ...pending, kind: "callback", callbackNumber: step.number };
    this.note(note).then(
      () => {
        finish(
          close ? `${readBack(note)} Auf Wiederhören.` : readBack(note),
          close ? "callbackNoted" : "askNumberAgain",
        );
      },
      () => finish(NOTE_FAILED, close ? "noNumberGoodbye" : "askNumberAgain"),
    );
  }

  /** Tell the machine whether a transfer is possible now (a target for this hour, a transport that can). */
  transferCheck(): void {
    let available = false;
    try {
      available = this.#h.ctx.output.transfer !== undefined && (this.#d.transferTarget?.() ?? null) !== null;
    } catch (e) {
      this.#h.ctx.log.warn("could not resolve the transfer target", { error: e });
    }
    if (available !== this.#h.state().transferAvailable) {
      this.#h.input({ type: "transfer_available", at: this.#h.at(), available });
    }
  }

  /** Hand the caller to a person; the outcome goes back to the machine (bounded by the timeout). */
  transfer(reason: HandoverReason): void {
    let target: TransferTo | null = null;
    try {
      target = this.#d.transferTarget?.() ?? null;
    } catch (e) {
      this.#h.ctx.log.warn("could not resolve the transfer target", { error: e });
    }
    const out = this.#h.ctx.output;
    const summary = (this.noted.at(-1)?.summary ?? this.#h.lastCallerText()).slice(0, 500);
    const event = (outcome: "started" | "connected" | "failed", detail?: string) =>
      emitPipelineEvent(out, {
        type: "transfer",
        reason,
        targetKind: target?.kind ?? "none",
        outcome,
        ...(detail ? { detail } : {}),
        ...(summary ? { summary } : {}),
        ...(this.#d.caller ? { caller: this.#d.caller } : {}),
      });
    const started = this.#h.now();
    if (!target || !out.transfer) {
      event("failed", "no_target");
      this.#d.metrics?.transfer?.(reason, "no_target");
      return this.#h.input({ type: "transfer_result", at: this.#h.at(), ok: false });
    }
    event("started");
    this.#h.ctx.log.info("transfer started", { reason, target_kind: target.kind });
    // The peer may take the caller away (and end this leg) before it reports the outcome.
    this.#h.setEnding("transfer");
    const signal = AbortSignal.any([
      this.#h.ctx.signal,
      AbortSignal.timeout(this.#d.transferTimeoutMs ?? 30_000),
    ]);
    // A warm transfer tells the person who answers who is calling and why (briefing.ts).
    const caller = this.#d.caller;
    const known = caller?.name !== undefined;
    const nameBasis = !known ? "said" : caller?.identity === "number_match" ? "number" : "checked";
    const name = caller?.name ?? this.noted.at(-1)?.callerName;
    const briefing = transferBriefing(
      briefingText({ name, nameBasis, reason, summary }),
      this.#d.tts,
      this.#d.ttsTimeoutMs,
    );
    out.transfer({ ...target, briefing }, signal).catch((e) => {
      this.#h.ctx.log.warn("transfer failed", { error: e });
      return { ok: false as const, reason: "failed" as const };
    }).then((r) => {
      const ms = Math.round(this.#h.now() - started);
      if (this.#h.ended() && !r.ok) return;
      if (r.ok) event("connected");
      else {
        event("failed", r.reason);
        if (!this.#h.ended()) this.#h.setEnding("hangup");
      }
      this.#h.ctx.log.info("transfer finished", {
        reason,
        ok: r.ok,
        outcome: r.ok ? "connected" : r.reason,
        ms,
      });
      this.#d.metrics?.transfer?.(reason, r.ok ? "connected" : r.reason);
      if (!this.#h.ended()) this.#h.input({ type: "transfer_result", at: this.#h.at(), ok: r.ok });
    });
  }

  /** A red flag fired: note the emergency for the team (the advice phrase is already being said). */
  emergency(flag: string): void {
    // The flag was matched once, on the transcript; its label comes from the same table.
    const label = RED_FLAG_LABELS[flag as RedFlag] ?? flag;
    emitPipelineEvent(this.#h.ctx.output, { type: "emergency", flag, label });
    this.#d.metrics?.emergency?.(flag);
    const said = this.redFlagText.trim().slice(0, 200);
    this.redFlagText = "";
    if (!this.#d.requests) return;
    const note: NoteRequest = {
      ...callbackNote(`Notfall erkannt (${label}). Rat gegeben: 112 / 116 117. Der Anrufer sagte: „${said}“`),
      kind: "emergency",
      urgency: "urgent",
      callbackNumber: this.#d.callerId ?? null,
    };
    this.note(note).catch((e) => this.#h.ctx.log.error("could not note the emergency", { error: e }));
  }

  /** Store a request of this call and tell the machine (a callback with a number allows the promise). */
  async note(note: NoteRequest): Promise<string> {
    const requests = this.#d.requests;
    if (!requests) throw new Error("this call cannot store requests");
    const id = await requests.note(note);
    this.noted.push(note);
    emitPipelineEvent(this.#h.ctx.output, {
      type: "request_noted",
      requestId: id,
      kind: note.kind,
      urgency: note.urgency,
    });
    this.#h.input({
      type: "request_noted",
      at: this.#h.at(),
      callback: note.kind === "callback" && note.callbackNumber !== null,
    });
    return id;
  }

  /**
   * Say a text of TOM's own built by code (a question with the caller's number, a read-back), marked as
   * `as`; when TTS cannot make it, the cached phrase `as` is played instead (same meaning, no details).
   */
  sayText(text: string, as: PhraseName): void {
    emitPipelineEvent(this.#h.ctx.output, { type: "say", text });
    synthesizeAll(this.#d.tts, text, this.#h.ctx.signal, this.#d.ttsTimeoutMs).catch(() => null).then(
      (pcm) => {
        if (this.#h.ended()) return;
        const audio = pcm && pcm.length > 0 ? pcm : this.#d.phrases.get(as);
        if (audio && audio.length > 0) {
          emitPipelineEvent(this.#h.ctx.output, {
            type: "tts_audio",
            turn: this.#h.state().turn,
            text: (audio === pcm ? text : PHRASES[as]).slice(0, 2_000),
            durationMs: (audio.length * 1000) / PIPELINE_RATE,
          });
          this.#h.ctx.output.audio(audio);
        }
        this.#h.mark(as);
      },
    );
  }
}

/** The note of a call whose engines failed: a callback, with what the caller last said. */
function failureNote(callerText: string): NoteRequest {
  const said = callerText.trim().slice(0, 200);
  return callbackNote(
    `Rückruf erbeten: TOM hatte technische Schwierigkeiten.${said ? ` Der Anrufer sagte: „${said}“` : ""}`,
  );
}

/** The note of a caller who asked for a person while no transfer is possible. */
function transferNote(reason: string): NoteRequest {
  return callbackNote(`Möchte mit dem Praxisteam sprechen: ${reason}`);
}

/** A callback note made by TOM itself (its number follows from the number dialogue). */
function callbackNote(summary: string): NoteRequest {
  return {
    kind: "callback",
    urgency: "normal",
    callerName: "",
    callbackNumber: null,
    forWhom: "",
    preferredTimes: "",
    medication: "",
    summary: summary.slice(0, 300),
  };
}
