/**
 * Piper behind the {@linkcode TtsEngine} interface: ONE long-running process
 * (`piper --model VOICE.onnx --output_raw --sentence_silence 0 [--json-input]`) fed one sentence per
 * stdin line, raw s16le mono out on stdout.
 *
 * How a sentence's end is found: raw output has no delimiters, but Piper logs one line per input line on
 * stderr once that line's audio has been written and flushed:
 * `[piper] [info] Real-time factor: R (infer=I sec, audio=A sec)`, where A is the synthesized audio
 * (`samples / sample_rate`, printed with full precision). Piper adds `--sentence_silence` seconds (0.2 by
 * default) after every sentence it finds inside a line, and that silence is not in A, so the adapter
 * passes `--sentence_silence 0`: the line's audio is then exactly `round(A * rate)` samples, and the
 * request ends when that many bytes have come out of stdout (the two pipes are read independently, so
 * the log line may arrive before the last bytes). A log line without `audio=` falls back to "stdout
 * quiet for `settleMs`".
 *
 * Requests are serialized (Piper answers one line at a time). Abort stops yielding at once; the rest of
 * that sentence is read and discarded in the background (Piper cannot be interrupted mid-sentence) and
 * the next request waits for it, unless draining takes longer than `drainTimeoutMs`, when the process is
 * killed and restarted. A dead process gives the current request a `crashed` (retryable) error frame;
 * the next request starts a new process.
 *
 * @module
 */
import type { EngineError, TtsEngine, TtsFrame } from "./types.ts";
import { S16Assembler, ttsError } from "./tts_pcm.ts";

/** Options of {@linkcode createPiperTts}. */
export interface PiperOptions {
  /** The voice model (`VOICE.onnx`, with `VOICE.onnx.json` beside it). */
  model: string;
  /** The piper binary (default `piper` on PATH). */
  bin?: string;
  /** Arguments before Piper's own (e.g. `["run", "-A", "stub.ts"]` when `bin` is deno). */
  binArgs?: string[];
  /** Output rate; default: `audio.sample_rate` of the model's JSON (see {@linkcode openPiperTts}), else 22050. */
  sampleRate?: number;
  /** Speaker id of a multi-speaker voice. */
  speaker?: number;
  /** Speaking rate (Piper `--length_scale`, >1 is slower). */
  lengthScale?: number;
  /** Send `{"text": ...}` JSON lines (`--json-input`) instead of plain text lines (default false). */
  jsonInput?: boolean;
  /** No complete sentence within this long is a `timeout` error and a restart (default 30 s). */
  timeoutMs?: number;
  /** Longest wait for an aborted sentence's remaining audio before restarting instead (default 5 s). */
  drainTimeoutMs?: number;
  /** Quiet time on stdout that ends a sentence when the log line has no `audio=` (default 150 ms). */
  settleMs?: number;
}

const DEFAULTS = { timeoutMs: 30_000, drainTimeoutMs: 5_000, settleMs: 150 } as const;
const RTF_LINE = /Real-time factor:/;
const AUDIO_SECONDS = /audio=([0-9.eE+-]+)\s*sec/;
const encoder = new TextEncoder();

/** One sentence in flight. */
class Job {
  chunks: Uint8Array[] = [];
  got = 0;
  expected: number | undefined;
  failed: EngineError | undefined;
  finished = false;
  discard = false;
  settleTimer: ReturnType<typeof setTimeout> | undefined;
  #wake: (() => void) | undefined;
  readonly ended: Promise<void>;
  #end!: () => void;

  constructor() {
    this.ended = new Promise((r) => this.#end = r);
  }

  notify(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  wait(): Promise<void> {
    return new Promise((r) => this.#wake = r);
  }

  finish(error?: EngineError): void {
    if (this.finished) return;
    this.finished = true;
    this.failed = error;
    clearTimeout(this.settleTimer);
    this.#end();
    this.notify();
  }
}

interface Proc {
  child: Deno.ChildProcess;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  stderrTail: string[];
  dead: boolean;
  /** The sentence this process is answering. */
  job: Job | undefined;
}

/** A Piper engine that owns one long-running process. */
export class PiperTts implements TtsEngine {
  readonly name: string;
  readonly sampleRate: number;
  #o: Required<Omit<PiperOptions, "speaker" | "lengthScale" | "sampleRate">> & PiperOptions;
  #proc: Proc | undefined;
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: PiperOptions) {
    if (!options.model) throw new Error("Cannot create a Piper engine: model is empty");
    this.#o = { bin: "piper", binArgs: [], jsonInput: false, ...DEFAULTS, ...options };
    this.sampleRate = options.sampleRate ?? 22050;
    if (!Number.isInteger(this.sampleRate) || this.sampleRate < 8000) {
      throw new RangeError(
        `Cannot use Piper sample rate ${this.sampleRate}: need an integer of at least 8000`,
      );
    }
    this.name = `piper:${options.model.split("/").pop()}`;
  }

  /** Process id of the running Piper, if any (for tests and diagnostics). */
  get pid(): number | undefined {
    return this.#proc && !this.#proc.dead ? this.#proc.child.pid : undefined;
  }

  async *synthesize(text: string, opts: { signal: AbortSignal; callId?: string }): AsyncGenerator<TtsFrame> {
    const { signal } = opts;
    if (this.#closed) {
      yield {
        type: "error",
        error: ttsError("unavailable", "Cannot synthesize: the Piper engine is closed", false),
      };
      return;
    }
    const clean = text.replace(/\s+/g, " ").trim();
    if (signal.aborted) return;
    if (clean === "") {
      yield { type: "done" };
      return;
    }
    // Serialize: wait for the previous job (including an aborted one still draining).
    const job = new Job();
    const before = this.#queue;
    this.#queue = before.then(() => job.ended);
    const onAbortWaiting = () => job.finish();
    signal.addEventListener("abort", onAbortWaiting, { once: true });
    await Promise.race([before, job.ended]);
    signal.removeEventListener("abort", onAbortWaiting);
    if (signal.aborted || job.finished) {
      job.finish();
      return;
    }
    const started = this.#start(job, clean);
    if (started !== undefined) {
      job.finish(started);
      yield { type: "error", error: started };
      return;
    }
    const timer = setTimeout(() => {
      const proc = this.#proc;
      job.finish(ttsError("timeout", `Piper gave no complete sentence in ${this.#o.timeoutMs} ms`, true));
      if (proc) this.#kill(proc);
    }, this.#o.timeoutMs);
    const onAbort = () => {
      job.discard = true;
      job.chunks = [];
      job.notify();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    const asm = new S16Assembler();
    try {
      for (;;) {
        while (job.chunks.length > 0 && !signal.aborted) {
          const pcm = asm.push(job.chunks.shift() as Uint8Array);
          if (pcm.length > 0) yield { type: "audio", pcm };
        }
        if (signal.aborted) return;
        if (job.finished) break;
        await job.wait();
      }
      if (job.failed) yield { type: "error", error: job.failed };
      else yield { type: "done" };
    } finally {
      signal.removeEventListener("abort", onAbort);
      clearTimeout(timer);
      if (!job.finished) this.#drain(job);
    }
  }

  /** Stop the process; later calls of synthesize give an `unavailable` error frame. */
  async close(): Promise<void> {
    this.#closed = true;
    const proc = this.#proc;
    proc?.job?.finish(ttsError("unavailable", "The Piper engine was closed", false));
    if (proc) {
      this.#kill(proc);
      await proc.child.status.catch(() => {});
    }
  }

  /** Let an abandoned job finish in the background; restart Piper if it takes too long. */
  #drain(job: Job): void {
    job.discard = true;
    job.chunks = [];
    const proc = this.#proc;
    const t = setTimeout(() => {
      if (job.finished) return;
      job.finish();
      if (proc) this.#kill(proc);
    }, this.#o.drainTimeoutMs);
    job.ended.then(() => clearTimeout(t));
  }

  #kill(proc: Proc): void {
    if (proc.dead) return;
    proc.dead = true;
    if (this.#proc === proc) this.#proc = undefined;
    try {
      proc.child.kill("SIGKILL");
    } catch { /* already gone */ }
  }

  /** Ensure a process and send the line; an error when Piper cannot be started or written to. */
  #start(job: Job, text: string): EngineError | undefined {
    if (this.#proc === undefined || this.#proc.dead) {
      const err = this.#spawn();
      if (err) return err;
    }
    const proc = this.#proc as Proc;
    proc.job = job;
    const line = this.#o.jsonInput
      ? JSON.stringify(this.#o.speaker === undefined ? { text } : { text, speaker_id: this.#o.speaker })
      : text;
    proc.writer.write(encoder.encode(line + "\n")).catch(() => {
      job.finish(ttsError("crashed", `Cannot write to Piper: ${this.#tail(proc)}`, true));
      this.#kill(proc);
    });
    return undefined;
  }

  #spawn(): EngineError | undefined {
    const o = this.#o;
    const args = [...o.binArgs, "--model", o.model, "--output_raw", "--sentence_silence", "0"];
    if (o.jsonInput) args.push("--json-input");
    else if (o.speaker !== undefined) args.push("--speaker", String(o.speaker));
    if (o.lengthScale !== undefined) args.push("--length_scale", String(o.lengthScale));
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(o.bin, { args, stdin: "piped", stdout: "piped", stderr: "piped" }).spawn();
    } catch (e) {
      const missing = e instanceof Deno.errors.NotFound;
      return ttsError(missing ? "unavailable" : "crashed", `Cannot start ${o.bin}: ${String(e)}`, !missing);
    }
    const proc: Proc = {
      child,
      writer: child.stdin.getWriter(),
      stderrTail: [],
      dead: false,
      job: undefined,
    };
    this.#proc = proc;
    this.#pumpStdout(proc);
    const stderrRead = this.#pumpStderr(proc);
    child.status.then(async (status) => {
      const wasKilled = proc.dead;
      proc.dead = true;
      if (this.#proc === proc) this.#proc = undefined;
      // Piper's last words (why it died) may still be in the pipe: read them before reporting, but never
      // wait long (a grandchild could hold the pipe open).
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([stderrRead, new Promise((r) => (timer = setTimeout(r, 250)))]);
      clearTimeout(timer);
      const job = proc.job;
      if (job && !job.finished && !wasKilled) {
        const how = status.signal ? `signal ${status.signal}` : `code ${status.code}`;
        job.finish(ttsError("crashed", `Piper exited with ${how}: ${this.#tail(proc)}`, true));
      } else if (job && !job.finished) job.finish(ttsError("crashed", "Piper was restarted", true));
    });
    return undefined;
  }

  #tail(proc: Proc): string {
    return proc.stderrTail.slice(-3).join(" | ").slice(0, 300) || "no output on stderr";
  }

  async #pumpStdout(proc: Proc): Promise<void> {
    try {
      for await (const chunk of proc.child.stdout) {
        const job = proc.job;
        if (job === undefined || job.finished) continue; // stray bytes: nobody asked
        job.got += chunk.length;
        if (!job.discard) job.chunks.push(chunk);
        if (job.expected === undefined && job.settleTimer !== undefined) this.#settle(job);
        this.#check(job);
        job.notify();
      }
    } catch { /* the process died: handled by status */ }
  }

  async #pumpStderr(proc: Proc): Promise<void> {
    let buf = "";
    try {
      for await (const text of proc.child.stderr.pipeThrough(new TextDecoderStream())) {
        buf += text;
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line === "") continue;
          proc.stderrTail.push(line);
          if (proc.stderrTail.length > 20) proc.stderrTail.shift();
          if (!RTF_LINE.test(line)) continue;
          const job = proc.job;
          if (job === undefined || job.finished) continue;
          const m = AUDIO_SECONDS.exec(line);
          const seconds = m ? Number(m[1]) : NaN;
          if (Number.isFinite(seconds) && seconds >= 0) {
            job.expected = Math.round(seconds * this.sampleRate) * 2;
            this.#check(job);
          } else this.#settle(job);
        }
      }
    } catch { /* the process died: handled by status */ }
  }

  /** Fallback end of sentence: stdout quiet for `settleMs` after the log line. */
  #settle(job: Job): void {
    clearTimeout(job.settleTimer);
    job.settleTimer = setTimeout(() => job.finish(), this.#o.settleMs);
  }

  #check(job: Job): void {
    if (job.expected !== undefined && job.got >= job.expected) job.finish();
  }
}

/**
 * A Piper engine with the sample rate read from the voice's JSON (`VOICE.onnx.json`,
 * `audio.sample_rate`). The process starts on the first sentence.
 *
 * @param options model, binary and voice settings
 * @returns the engine
 * @throws {Error} when the model is empty
 */
export async function openPiperTts(options: PiperOptions): Promise<PiperTts> {
  let sampleRate = options.sampleRate;
  if (sampleRate === undefined) {
    try {
      const config = JSON.parse(await Deno.readTextFile(`${options.model}.json`));
      const r = config?.audio?.sample_rate;
      if (typeof r === "number") sampleRate = r;
    } catch { /* no JSON: Piper's common rate */ }
  }
  return new PiperTts({ ...options, sampleRate: sampleRate ?? 22050 });
}

/**
 * A Piper engine (sample rate from `options.sampleRate`, default 22050).
 *
 * @param options model, binary and voice settings
 * @returns the engine; the process starts on the first sentence
 */
export function createPiperTts(options: PiperOptions): PiperTts {
  return new PiperTts(options);
}
