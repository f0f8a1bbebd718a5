/**
 * Call recording, only with consent: one stereo WAV per call, 16 kHz PCM16, left = the caller as TOM
 * received it (after decoding and resampling), right = TOM as sent (before the transport's resampling).
 * Made only when `recording.enabled` is set, the account allows recordings (admin setting), and the call
 * has a known person with `consent_recording`.
 *
 * Alignment: both channels are placed on one sample clock that starts when the session starts.
 * - The caller's frames go where their `atMs` says (the transport counts received frames, so gaps in
 *   the network do not shift the audio that follows).
 * - TOM's audio is modelled as the transport plays it: it starts when handed over, or when what was
 *   queued before it ends, and plays in real time (wall clock, `now`).
 * - Nothing is written until the clock has passed it (minus a jitter allowance for late caller frames),
 *   so when TOM is interrupted (`clear`, barge-in) the part of its audio the caller never heard is dropped
 *   from the right channel. A direction with no audio is written as silence.
 *
 * The file is streamed to disk: header first, then at least 250 ms of audio at a time; the sizes are
 * patched when the call ends. A process that dies mid-call leaves a file with 0xFFFFFFFF sizes ("to the
 * end of the file") that `tom qc` and other readers still read. A write error (full disk, permissions)
 * stops the recording with one warning; the call goes on. While the caller answers the PIN question (the
 * pipeline's `private` event), the caller's channel is silence. If the person's consent is gone when the call
 * ends (erased, or consent withdrawn during the call), the file is deleted.
 *
 * Files: `<dataDir>/recordings/<accountId>/<callId>.wav`, directories 0700, files 0600; the call row
 * stores the path relative to `<dataDir>/recordings`.
 *
 * @module
 */
import { join } from "node:path";
import type { Config } from "../infra/mod.ts";
import type { Logger } from "../infra/mod.ts";
import {
  accountAllowsRecording,
  attachRecording,
  callConsent,
  clearRecording,
  type Store,
} from "../store/mod.ts";
import type { CallOutput } from "./call/contract.ts";
import { PIPELINE_RATE } from "./call/contract.ts";
import { tapOutput } from "./call/messages.ts";
import { WavFileWriter } from "./audio/wav.ts";

/** Samples per millisecond on the recording's clock. */
const PER_MS = PIPELINE_RATE / 1000;
/** How late a caller frame may arrive (behind the clock) and still be recorded: 2 s of network jitter. */
const JITTER_SAMPLES = 2 * PIPELINE_RATE;
/** A peer sending faster than real time: write once this much caller audio waits ahead of the clock. */
const MAX_AHEAD_SAMPLES = 30 * PIPELINE_RATE;
/** Write to disk in pieces of about 250 ms of stereo audio. */
const WRITE_SAMPLES = PIPELINE_RATE / 4;
/** Account and call ids that may become file names. */
const SAFE_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** The recordings directory of a data directory. */
export function recordingsDir(dataDir: string): string {
  return join(dataDir, "recordings");
}

/** Where a call's recording lives, relative to {@linkcode recordingsDir} (as stored in the call row). */
export function recordingRelativePath(accountId: string, callId: string): string {
  if (!SAFE_ID.test(accountId) || !SAFE_ID.test(callId)) {
    throw new RangeError("Cannot name a recording: account and call ids must be 1-128 of A-Z a-z 0-9 _ -");
  }
  return `${accountId}/${callId}.wav`;
}

/** What {@linkcode startRecording} needs. */
export interface RecordingDeps {
  config: Config;
  store: Store;
  /** The call's logger. */
  log: Logger;
  now?: () => number;
}

/** A piece of one channel's audio at a position on the recording's clock (in samples). */
interface Piece {
  start: number;
  pcm: Int16Array;
}

/**
 * Start recording a call if everything allows it; undefined (and nothing written) otherwise, or when the
 * file cannot be created (one warning).
 *
 * @param call the call; its `startedAt` (ms, the session's start) is sample 0 of the recording
 */
export function startRecording(
  deps: RecordingDeps,
  call: { accountId: string; callId: string; startedAt: number },
): CallRecorder | undefined {
  const { config, store, log } = deps;
  if (!config.recording.enabled) return undefined;
  let created: { path: string; writer: WavFileWriter } | undefined;
  try {
    if (!callConsent(store, call.accountId, call.callId)?.recording) return undefined;
    if (!accountAllowsRecording(store, call.accountId)) return undefined;
    const rel = recordingRelativePath(call.accountId, call.callId);
    const base = recordingsDir(config.dataDir);
    const dir = join(base, call.accountId);
    for (const d of [config.dataDir, base, dir]) {
      Deno.mkdirSync(d, { recursive: true, mode: 0o700 });
    }
    // mkdir's mode is filtered by the umask, and the directories may exist already.
    Deno.chmodSync(base, 0o700);
    Deno.chmodSync(dir, 0o700);
    const path = join(base, rel);
    created = { path, writer: WavFileWriter.create(path, { rate: PIPELINE_RATE, channels: 2, mode: 0o600 }) };
    if (!attachRecording(store, call.accountId, call.callId, rel)) throw new Error("the call row refused it");
    log.info("recording started", { file: rel });
    return new CallRecorder(created.writer, { ...deps, ...call, path });
  } catch (e) {
    log.warn("call is not recorded: cannot create the recording", { error: e });
    if (created) discard(created.path, created.writer);
    return undefined;
  }
}

/** Close and delete a recording that must not stay. */
function discard(path: string, writer: WavFileWriter): void {
  try {
    writer.close();
    Deno.removeSync(path);
  } catch {
    // best effort: the retention sweep deletes what is left
  }
}

/** The recorder of one call: feed it both directions; close it when the call ends. */
export class CallRecorder {
  readonly path: string;
  readonly #writer: WavFileWriter;
  readonly #deps: RecordingDeps & { accountId: string; callId: string; startedAt: number };
  readonly #now: () => number;
  #left: Piece[] = [];
  #right: Piece[] = [];
  /** Stereo frames (sample positions) written to the file. */
  #written = 0;
  /** Where TOM's queued audio ends on the clock. */
  #rightEnd = 0;
  /** Where the caller's audio received so far ends on the clock. */
  #leftEnd = 0;
  #lateSamples = 0;
  #flushedSamples = 0;
  #stopped = false;
  /** The caller's words are a secret now (a PIN): their frames are not kept. */
  #private = false;

  /** Use {@linkcode startRecording}. */
  constructor(
    writer: WavFileWriter,
    deps: RecordingDeps & { accountId: string; callId: string; startedAt: number; path: string },
  ) {
    this.#writer = writer;
    this.#deps = deps;
    this.path = deps.path;
    this.#now = deps.now ?? Date.now;
  }

  /** Whether the recording still runs (false after close or a write error). */
  get active(): boolean {
    return !this.#stopped;
  }

  /**
   * While on, the caller's frames are not kept (the channel is written as silence): the answer to the PIN
   * question must not be in a file staff can play.
   */
  private(on: boolean): void {
    this.#private = on;
  }

  /** A 20 ms caller frame at `atMs` of call time. */
  caller(pcm: Int16Array, atMs: number): void {
    if (this.#private) return;
    this.#safely(() => {
      const start = Math.round(atMs * PER_MS);
      this.#left.push({ start, pcm: pcm.slice() });
      this.#leftEnd = Math.max(this.#leftEnd, start + pcm.length);
      this.#advance();
    });
  }

  /** TOM's audio handed to the transport: it plays after what is queued, in real time. */
  tom(pcm: Int16Array): void {
    this.#safely(() => {
      if (pcm.length === 0) return;
      const start = Math.max(this.#clock(), this.#rightEnd, this.#written);
      this.#right.push({ start, pcm: pcm.slice() });
      this.#rightEnd = start + pcm.length;
      this.#advance();
    });
  }

  /** Barge-in: TOM's audio not yet played is dropped from the recording too. */
  clear(): void {
    this.#safely(() => this.#drop());
  }

  /** The call ended: write the rest (TOM's audio only as far as it was played), patch the sizes, close. */
  close(): void {
    this.#safely(() => this.#close());
  }

  /** Run a step; any failure stops the recording and never reaches the call. */
  #safely(step: () => void): void {
    if (this.#stopped) return;
    try {
      step();
    } catch (e) {
      this.#stop(e);
    }
  }

  /** Drop TOM's audio after the clock (not played). */
  #drop(): void {
    const at = Math.max(this.#clock(), this.#written);
    this.#right = this.#right.flatMap((p) => {
      const end = p.start + p.pcm.length;
      if (end <= at) return [p];
      this.#flushedSamples += end - Math.max(at, p.start);
      return p.start >= at ? [] : [{ start: p.start, pcm: p.pcm.subarray(0, at - p.start) }];
    });
    this.#rightEnd = Math.min(this.#rightEnd, at);
  }

  #close(): void {
    const playedTo = Math.min(this.#rightEnd, this.#clock());
    this.#drop();
    this.#commit(Math.max(this.#leftEnd, playedTo, this.#written));
    this.#stopped = true;
    const { log, store, accountId, callId } = this.#deps;
    try {
      this.#writer.close();
    } catch (e) {
      log.warn("recording may be incomplete: cannot finish the file", { error: e });
    }
    // Checked at the start; if it cannot be read now (database closing), the file stays for retention.
    let consent = true;
    try {
      consent = callConsent(store, accountId, callId)?.recording === true;
    } catch (e) {
      log.warn("cannot check the recording consent at the end of the call", { error: e });
    }
    if (!consent) {
      try {
        Deno.removeSync(this.path);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) log.warn("cannot delete a recording", { error: e });
      }
      try {
        clearRecording(store, accountId, callId);
      } catch (e) {
        log.warn("cannot clear the deleted recording's path", { error: e });
      }
      log.info("recording deleted: consent no longer given");
      return;
    }
    log.info("recording finished", {
      duration_ms: Math.round(this.#writer.dataBytes / 4 / PER_MS),
      flushed_ms: Math.round(this.#flushedSamples / PER_MS),
      late_ms: Math.round(this.#lateSamples / PER_MS),
    });
  }

  /** Position of "now" on the recording's clock, in samples. */
  #clock(): number {
    return Math.max(0, Math.round((this.#now() - this.#deps.startedAt) * PER_MS));
  }

  #advance(): void {
    const to = Math.max(this.#clock() - JITTER_SAMPLES, this.#leftEnd - MAX_AHEAD_SAMPLES);
    if (to - this.#written >= WRITE_SAMPLES) this.#commit(to);
  }

  /** Mix everything before `to` into stereo frames and append them to the file. */
  #commit(to: number): void {
    const from = this.#written;
    if (to <= from) return;
    const out = new Int16Array((to - from) * 2);
    this.#left = place(this.#left, from, to, out, 0, (n) => (this.#lateSamples += n));
    this.#right = place(this.#right, from, to, out, 1, () => {});
    this.#written = to;
    this.#writer.write(out);
  }

  /** A step failed (full disk, permissions): stop recording with one warning, keep the file readable. */
  #stop(error: unknown): void {
    this.#stopped = true;
    this.#left = [];
    this.#right = [];
    this.#deps.log.warn("recording stopped: cannot write the file", { error });
    try {
      this.#writer.close();
    } catch {
      // the file stays with 0xFFFFFFFF sizes, which readers take as "to the end of the file"
    }
  }
}

/**
 * Copy the parts of `pieces` inside [from, to) into `channel` of interleaved stereo `out` (which starts
 * at `from`); returns the pieces (or their tails) still after `to`. Parts before `from` (too late) are
 * counted by `late`.
 */
function place(
  pieces: Piece[],
  from: number,
  to: number,
  out: Int16Array,
  channel: number,
  late: (samples: number) => void,
): Piece[] {
  const rest: Piece[] = [];
  for (const p of pieces) {
    const end = p.start + p.pcm.length;
    if (p.start < from) late(Math.min(end, from) - p.start);
    const a = Math.max(p.start, from);
    const b = Math.min(end, to);
    for (let i = a; i < b; i++) out[(i - from) * 2 + channel] = p.pcm[i - p.start];
    if (end > to) rest.push(p.start >= to ? p : { start: to, pcm: p.pcm.subarray(to - p.start) });
  }
  return rest;
}

/**
 * Wrap a transport's output so TOM's audio and barge-in flushes reach the recorder too. Everything else
 * (marks, hangup, `queuedMs`, the browser's event sink) goes straight to the transport.
 */
export function recordOutput(output: CallOutput, recorder: CallRecorder): CallOutput {
  return tapOutput(output, {
    audio: (pcm) => recorder.tom(pcm),
    clear: () => recorder.clear(),
    event: (e) => {
      if (e.type === "private") recorder.private(e.on);
    },
  });
}

/**
 * Delete recording files last written before `cutoffMs` (by modification time: a recording is last
 * written when its call ends), whether or not a call row still names them: the retention job's sweep for
 * files the database lost track of (a crash between creating the file and storing its path). Only
 * `<dataDir>/recordings/<account>/*.wav` is touched.
 *
 * @returns how many files were deleted
 */
export function sweepRecordingFiles(dataDir: string, cutoffMs: number): number {
  const base = recordingsDir(dataDir);
  let deleted = 0;
  let accounts: Deno.DirEntry[];
  try {
    accounts = [...Deno.readDirSync(base)];
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return 0;
    throw e;
  }
  for (const a of accounts) {
    if (!a.isDirectory || !SAFE_ID.test(a.name)) continue;
    for (const f of Deno.readDirSync(join(base, a.name))) {
      if (!f.isFile || !f.name.endsWith(".wav")) continue;
      const file = join(base, a.name, f.name);
      const mtime = Deno.statSync(file).mtime?.getTime() ?? 0;
      if (mtime >= cutoffMs) continue;
      try {
        Deno.removeSync(file);
        deleted++;
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
  }
  return deleted;
}
