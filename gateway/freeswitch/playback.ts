/**
 * TOM's voice on a FreeSWITCH call. mod_audio_fork does not play audio itself (protocols.md section 1),
 * so TOM, which runs on the same box, writes what it says as WAV files into `freeswitch.playbackDir`
 * and plays them on the channel over the event socket: `uuid_broadcast <uuid> <file> aleg`, queued by
 * FreeSWITCH one after another.
 *
 * Batching: the answering stage hands over audio in chunks of any size. Contiguous chunks are grouped
 * into files: a file is cut when a mark is requested (a sentence or turn ends), when no audio came for
 * `gapMs` (the producer paused), or when it is long enough to keep FreeSWITCH busy: `firstFileMs` when
 * nothing is playing (so the first words go out fast), then as long as what is still queued ahead of it
 * (files double in length while a long answer streams in), never more than `maxFileMs`.
 *
 * Marks: a mark belongs to the last file cut before it and fires when FreeSWITCH raises PLAYBACK_STOP
 * for that file (`Playback-File-Path`). If that event never comes (ESL events lost across a reconnect,
 * PLAYBACK events not subscribed), it fires by estimate: when the file should have finished (files play
 * back to back from the moment each was queued) plus `markSlackMs`.
 *
 * Barge-in (`clear`): the unsent audio is dropped, files not yet queued are not queued, and FreeSWITCH
 * is told twice, each way being enough on its own: `{"type":"killAudio"}` over the WebSocket
 * (mod_audio_fork breaks the current playback) and `uuid_break <uuid> all` over ESL (stops it and
 * empties the broadcast queue). Every outstanding mark fires with `cleared: true`.
 *
 * @module
 */
import { join } from "node:path";
import type { Logger } from "../../infra/mod.ts";
import { PIPELINE_RATE } from "../call/contract.ts";
import { type Clock, systemClock } from "../audio/mod.ts";
import { encodeWav } from "../audio/wav.ts";
import type { EslEvent } from "./esl_wire.ts";

/** The part of the ESL client playback needs. */
export interface PlaybackEsl {
  readonly connected: boolean;
  api(command: string): Promise<string>;
}

/** Defaults, with the reason for each number. */
export const PLAYBACK_DEFAULTS = {
  /** Producers (TTS) deliver an utterance in bursts a few ms apart; 40 ms of silence ends a file. */
  gapMs: 40,
  /** With nothing playing, 200 ms of audio starts playback: quick first words, few tiny files. */
  firstFileMs: 200,
  /** Long answers start playing after 2 s of audio instead of waiting for the end. */
  maxFileMs: 2000,
  /** Wait for PLAYBACK_STOP this long past the estimated end before a mark fires anyway. */
  markSlackMs: 1500,
} as const;

/** Options of {@linkcode FsPlayback}. */
export interface FsPlaybackOptions {
  /** The channel's uuid (already validated: letters, digits, dashes). */
  uuid: string;
  /** The call's own directory for playback files (created on first use, removed at the end). */
  dir: string;
  esl: PlaybackEsl;
  /** Send a JSON message to mod_audio_fork over the WebSocket. */
  sendJson: (message: Record<string, unknown>) => void;
  /** A mark was reached (or dropped). */
  onMark: (name: string, cleared: boolean) => void;
  log: Logger;
  /** Rate of the audio handed to {@linkcode FsPlayback.push} (default PIPELINE_RATE). */
  rate?: number;
  gapMs?: number;
  firstFileMs?: number;
  maxFileMs?: number;
  markSlackMs?: number;
  clock?: Clock;
  /** Test seams for the file system. */
  writeFile?: (path: string, bytes: Uint8Array) => Promise<void>;
  removeDir?: (path: string) => Promise<void>;
}

interface Segment {
  seq: number;
  path: string;
  durationMs: number;
  marks: string[];
  /** `sent` callbacks of audio that begins in this file: they fire when it starts playing. */
  cues: (() => void)[];
  state: "writing" | "queued" | "done";
  startedAt?: number;
  timer?: unknown;
}

/** A segment's state, read afresh (it changes across awaits). */
function isDone(seg: Segment): boolean {
  return seg.state === "done";
}

/**
 * A playback file holds what TOM says (names, memory): owner-only, 0600, also when the umask or an old
 * file left it wider. FreeSWITCH reads it as the same user as TOM (infra/deploy/freeswitch).
 */
async function defaultWrite(path: string, bytes: Uint8Array): Promise<void> {
  await Deno.writeFile(path, bytes, { mode: 0o600 });
  await Deno.chmod(path, 0o600);
}

async function defaultRemoveDir(path: string): Promise<void> {
  await Deno.remove(path, { recursive: true }).catch(() => {});
}

/** Plays one call's outgoing audio through files and ESL. */
export class FsPlayback {
  readonly #o: Required<Omit<FsPlaybackOptions, "clock">>;
  readonly #clock: Clock;
  #pending: Int16Array[] = [];
  #pendingSamples = 0;
  #pendingCues: (() => void)[] = [];
  #gapTimer: unknown;
  #segments: Segment[] = [];
  #seq = 0;
  #epoch = 0;
  #chain: Promise<void> = Promise.resolve();
  #estimatedEnd = 0;
  #dirMade = false;
  #stopped = false;
  #failuresLogged = 0;
  /** Files queued with FreeSWITCH (for metrics and tests). */
  broadcasts = 0;

  constructor(opts: FsPlaybackOptions) {
    this.#o = {
      rate: PIPELINE_RATE,
      gapMs: PLAYBACK_DEFAULTS.gapMs,
      firstFileMs: PLAYBACK_DEFAULTS.firstFileMs,
      maxFileMs: PLAYBACK_DEFAULTS.maxFileMs,
      markSlackMs: PLAYBACK_DEFAULTS.markSlackMs,
      writeFile: defaultWrite,
      removeDir: defaultRemoveDir,
      ...opts,
    };
    this.#clock = opts.clock ?? systemClock;
  }

  /** The logger (replaced once the call's own logger exists). */
  set log(log: Logger) {
    this.#o.log = log;
  }

  /** Milliseconds of TOM's audio not yet played, as far as TOM can tell. */
  get queuedMs(): number {
    return Math.round((this.#pendingSamples * 1000) / this.#o.rate + this.#aheadMs());
  }

  /** Milliseconds of the files cut so far that have not played yet. */
  #aheadMs(): number {
    const now = this.#clock.now();
    let ms = 0;
    for (const s of this.#segments) {
      if (s.state === "done") continue;
      ms += s.startedAt === undefined ? s.durationMs : Math.max(0, s.durationMs - (now - s.startedAt));
    }
    return ms;
  }

  /**
   * Queue audio (any length).
   *
   * @param sent fires when the file holding this audio starts playing (PLAYBACK_START, or by estimate)
   */
  push(pcm: Int16Array, sent?: () => void): void {
    if (this.#stopped || pcm.length === 0) return;
    if (sent) this.#pendingCues.push(sent);
    this.#pending.push(pcm.slice());
    this.#pendingSamples += pcm.length;
    const ahead = this.#aheadMs();
    const enough = Math.min(this.#o.maxFileMs, Math.max(this.#o.firstFileMs, ahead));
    if ((this.#pendingSamples * 1000) / this.#o.rate >= enough) {
      this.#flush();
      return;
    }
    this.#clock.clearTimeout(this.#gapTimer);
    this.#gapTimer = this.#clock.setTimeout(() => {
      this.#gapTimer = undefined;
      this.#flush();
    }, this.#o.gapMs);
  }

  /** Fire `onMark(name, false)` once everything pushed so far has played. */
  mark(name: string): void {
    if (this.#stopped) return;
    this.#flush();
    const last = this.#segments.at(-1);
    if (last && last.state !== "done") last.marks.push(name);
    else queueMicrotask(() => this.#o.onMark(name, false));
  }

  /** Barge-in: drop and stop everything; outstanding marks fire with `cleared: true`. */
  clear(): void {
    if (this.#stopped) return;
    this.#epoch++;
    this.#dropPending();
    this.#o.sendJson({ type: "killAudio" });
    if (this.#o.esl.connected) {
      this.#o.esl.api(`uuid_break ${this.#o.uuid} all`).then((r) => {
        if (!r.startsWith("+OK")) this.#o.log.debug("uuid_break answered", { reply: r.trim().slice(0, 80) });
      }, (e) => this.#o.log.warn("uuid_break failed", { error: e }));
    }
    const cut = this.#segments.filter((s) => s.state !== "done");
    for (const s of cut) this.#finish(s, true);
    this.#estimatedEnd = 0;
  }

  /** A PLAYBACK_START or PLAYBACK_STOP event of this call's channel. */
  onEvent(e: EslEvent): void {
    const path = e.headers["Playback-File-Path"] || e.headers["Application-Data"] || "";
    const index = this.#segments.findIndex((s) => s.path === path);
    if (index < 0) return;
    const seg = this.#segments[index];
    if (e.name === "PLAYBACK_START") {
      if (seg.state !== "queued") return;
      seg.startedAt = this.#clock.now();
      this.#fireCues(seg);
      this.#armEstimate(seg, seg.startedAt + seg.durationMs);
    } else if (e.name === "PLAYBACK_STOP") {
      // FreeSWITCH plays the queue in order: everything before this file is over too.
      const broken = e.headers["Playback-Status"] === "break";
      for (const s of this.#segments.slice(0, index + 1)) {
        if (s.state !== "done") this.#finish(s, broken && s === seg);
      }
    }
  }

  /** End of the call: stop timers, forget marks, delete the call's files. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#epoch++;
    this.#dropPending();
    for (const s of this.#segments) this.#clock.clearTimeout(s.timer);
    this.#segments = [];
    await this.#chain;
    if (this.#dirMade) await this.#o.removeDir(this.#o.dir);
  }

  #dropPending(): void {
    this.#clock.clearTimeout(this.#gapTimer);
    this.#gapTimer = undefined;
    this.#pending = [];
    this.#pendingSamples = 0;
    this.#pendingCues = [];
  }

  /** Cut the pending audio into a file and queue it for playback. */
  #flush(): void {
    this.#clock.clearTimeout(this.#gapTimer);
    this.#gapTimer = undefined;
    if (this.#pendingSamples === 0 || this.#stopped) return;
    const pcm = new Int16Array(this.#pendingSamples);
    let at = 0;
    for (const p of this.#pending) {
      pcm.set(p, at);
      at += p.length;
    }
    this.#pending = [];
    this.#pendingSamples = 0;
    const seq = ++this.#seq;
    const seg: Segment = {
      seq,
      path: join(this.#o.dir, `${String(seq).padStart(5, "0")}.wav`),
      durationMs: (pcm.length * 1000) / this.#o.rate,
      marks: [],
      cues: this.#pendingCues,
      state: "writing",
    };
    this.#pendingCues = [];
    this.#segments.push(seg);
    const epoch = this.#epoch;
    const wav = encodeWav(pcm, this.#o.rate);
    this.#chain = this.#chain.then(() => this.#play(seg, wav, epoch));
  }

  async #play(seg: Segment, wav: Uint8Array, epoch: number): Promise<void> {
    if (epoch !== this.#epoch || isDone(seg)) return;
    try {
      if (!this.#dirMade) {
        await Deno.mkdir(this.#o.dir, { recursive: true, mode: 0o700 });
        await Deno.chmod(this.#o.dir, 0o700);
        this.#dirMade = true;
      }
      await this.#o.writeFile(seg.path, wav);
      if (epoch !== this.#epoch || isDone(seg)) return; // barge-in while writing
      if (!this.#o.esl.connected) throw new Error("the FreeSWITCH event socket is not connected");
      const reply = await this.#o.esl.api(`uuid_broadcast ${this.#o.uuid} ${seg.path} aleg`);
      if (!reply.startsWith("+OK")) throw new Error(`uuid_broadcast answered ${reply.trim().slice(0, 80)}`);
    } catch (e) {
      this.#failed(e);
      if (!isDone(seg)) this.#finish(seg, true);
      return;
    }
    this.broadcasts++;
    if (seg.state !== "writing") return; // cleared while the command was on its way
    seg.state = "queued";
    const start = Math.max(this.#clock.now(), this.#estimatedEnd);
    this.#estimatedEnd = start + seg.durationMs;
    this.#armEstimate(seg, this.#estimatedEnd);
    // Without a PLAYBACK_START (events not subscribed), the file starts when the ones before it end.
    if (seg.cues.length > 0) {
      if (start <= this.#clock.now()) this.#fireCues(seg);
      else {this.#clock.setTimeout(() =>
          seg.state !== "done" && this.#fireCues(seg), start - this.#clock.now());}
    }
  }

  #fireCues(seg: Segment): void {
    for (const sent of seg.cues.splice(0)) sent();
  }

  #armEstimate(seg: Segment, endAt: number): void {
    this.#clock.clearTimeout(seg.timer);
    const wait = Math.max(0, endAt - this.#clock.now()) + this.#o.markSlackMs;
    seg.timer = this.#clock.setTimeout(() => {
      if (seg.state === "done") return;
      this.#o.log.debug("no PLAYBACK_STOP from FreeSWITCH: playback taken as finished by its duration", {
        file: seg.seq,
      });
      for (const s of this.#segments.slice(0, this.#segments.indexOf(seg) + 1)) {
        if (s.state !== "done") this.#finish(s, false);
      }
    }, wait);
  }

  #finish(seg: Segment, cleared: boolean): void {
    seg.state = "done";
    this.#clock.clearTimeout(seg.timer);
    this.#segments = this.#segments.filter((s) => s !== seg);
    const marks = seg.marks;
    if (marks.length > 0) queueMicrotask(() => marks.forEach((m) => this.#o.onMark(m, cleared)));
    if (!cleared) {
      // The file has played: it can go now (cleared ones go with the directory at the end of the call).
      Deno.remove(seg.path).catch(() => {});
    }
  }

  #failed(e: unknown): void {
    this.#failuresLogged++;
    // First failure of the call at warn level, the rest at debug: one line per call, not per file.
    const level = this.#failuresLogged === 1 ? "warn" : "debug";
    this.#o.log[level]("cannot play TOM's audio on the FreeSWITCH channel", { error: e });
  }
}
