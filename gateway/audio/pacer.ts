/**
 * Real-time pacing of a call's outbound frames, for every transport that is handed audio as it plays
 * (browser, Twilio Media Streams, AudioSocket, chan_websocket), on the shared {@linkcode Ticker} grid.
 *
 * Frame n of a run is due at `start + n * frameMs - leadMs`: an absolute schedule, so timer jitter never
 * adds up. A run starts on the first tick at or after the moment its first frame was queued (plus
 * `startDelayMs`), or, if the frame arrives in time for the slot after the previous run's last frame,
 * at that slot: where the listener will be. A late tick sends the overdue frames, at most `maxBurst`
 * beyond the lead; further behind, the schedule slips (counted in {@linkcode Pacer.slippedFrames})
 * instead of bursting the backlog at the peer.
 *
 * What the transports choose:
 *
 * - `silence` (AudioSocket, chan_websocket): a keep-alive frame sent whenever the queue is empty, so the
 *   schedule never stops (Asterisk's AudioSocket hangs up after 2 s without a frame; a media path without
 *   packets looks dead to NATs and phones). Silence never runs ahead of the listener.
 * - `leadMs` (chan_websocket): Asterisk re-times what it gets, so TOM's audio may run that far ahead of
 *   the listener, which absorbs event-loop stalls; after a clear the schedule restarts where the listener
 *   is. Without a lead (Twilio, browser, AudioSocket) frames go out at their slots.
 * - `prebufferMs`: a run starts once a second frame is queued or the first has waited that long, so a
 *   just-in-time source (the echo, real-time TTS) has a frame of slack against timer jitter.
 * - `refill`: asked every tick to queue a few more frames (the lazy conversion of
 *   {@linkcode OutboundAudio}).
 * - `pause`/`resume`: flow control (chan_websocket's MEDIA_XOFF/MEDIA_XON).
 *
 * Marks are reported in stream order once every frame queued before them has been handed to `send`
 * (what "played" means after that is the transport's business: Twilio and chan_websocket ask the peer).
 * A cue fires once the frame after it has been written: right after `send` returns, or once the promise
 * it returns settles (the moment TOM's answer goes on the wire).
 *
 * @module
 */
import { sharedTicker, type Ticker } from "./ticker.ts";

/** Options of {@linkcode Pacer}. */
export interface PacerOptions<T> {
  /**
   * Hands the frames due in one tick to the peer, in order (one or more); `slotMs` is when the first of
   * them was due for the listener (on the ticker's clock; each next one `frameMs` later). May return a
   * promise that settles once they are written.
   */
  send: (frames: T[], slotMs: number) => unknown;
  /** A mark's position was passed (`cleared` false), or it was dropped by clear/stop (`cleared` true). */
  onMark?: (name: string, cleared: boolean) => void;
  /** Frame sent when the queue is empty; without it the schedule stops between runs. */
  silence?: T;
  /** How far ahead of the listener frames may be sent, in ms (default 0). */
  leadMs?: number;
  /** Frame duration in ms (default 20); a multiple of the ticker's period. */
  frameMs?: number;
  /** Frames sent in one tick beyond the lead when catching up (default 3). */
  maxBurst?: number;
  /** Extra delay before the first frame of a new run, in ms (default 0): slack for a just-in-time source. */
  startDelayMs?: number;
  /** How long a lone first frame waits for a second before its run starts, in ms (default 0). */
  prebufferMs?: number;
  /** Asked on every tick to queue up to `frames` more frames (lazy conversion upstream). */
  refill?: (frames: number) => void;
  /** Grid (default {@linkcode sharedTicker}). */
  ticker?: Ticker;
}

/** How far behind the listener's time silence is sent after audio when a lead is allowed. */
const SILENCE_MARGIN_MS = 200;

/**
 * Tolerance when comparing slot and tick times: both are sums of a fractional clock origin and whole
 * milliseconds, added in different orders, so equal times can differ in the last bits.
 */
const EPSILON_MS = 1e-6;

/** A queued mark (a private class, so no frame can be mistaken for one). */
class Mark {
  constructor(readonly name: string) {}
}
/** A queued cue: `sent` fires once the next frame has been written. */
class Cue {
  constructor(readonly sent: () => void) {}
}

/** Paces frames of type `T` (bytes, strings, anything the transport sends) at one per `frameMs`. */
export class Pacer<T> {
  readonly frameMs: number;
  readonly #send: (frames: T[], slotMs: number) => unknown;
  readonly #onMark: (name: string, cleared: boolean) => void;
  readonly #refill: ((frames: number) => void) | undefined;
  /** Frames the refill source keeps queued: the lead, a burst and two more. */
  readonly #refillTarget: number;
  readonly #leadMs: number;
  readonly #maxBurst: number;
  readonly #startDelayMs: number;
  readonly #prebufferMs: number;
  readonly #ticker: Ticker;
  #silence: T | undefined;
  #queue: (T | Mark | Cue)[] = [];
  /** Cues passed in the queue whose frame has not been sent yet. */
  #cues: (() => void)[] = [];
  /** Scratch of the service loop: marks passed, and cues whose frame is in the batch being sent. */
  readonly #marks: string[] = [];
  readonly #sentCues: (() => void)[] = [];
  #head = 0;
  #frames = 0;
  /** Start of the current run and the index of its next frame; `anchored` is false between runs. */
  #start = 0;
  #n = 0;
  #anchored = false;
  /** Where a run waiting for its first tick starts (set when its first frame is queued). */
  #runAt: number | undefined;
  /** Whether audio (not silence) is flowing; when the queue first filled (for the prebuffer). */
  #running = false;
  #filledAt = 0;
  /** Listener time at which everything sent so far will have been heard (the next slot). */
  #heardBy = -Infinity;
  #paused = false;
  /** The last frame sent was audio (silence then waits SILENCE_MARGIN_MS past the listener's time). */
  #afterAudio = false;
  #stopped = false;
  #subscribed = false;
  /** Bumped by clear/stop so a service loop notices a callback changed the queue under it. */
  #epoch = 0;
  #sent = 0;
  #slipped = 0;
  #runs = 0;
  #tick = (tickMs: number) => this.#service(tickMs);

  /**
   * @param options send and mark callbacks, and the transport's choices (see the module doc)
   * @throws {RangeError} on a frame duration that is not a multiple of the ticker's period, a negative
   *   lead, delay or prebuffer, or a `maxBurst` that is not a positive integer
   */
  constructor(options: PacerOptions<T>) {
    const { frameMs = 20, leadMs = 0, maxBurst = 3, startDelayMs = 0, prebufferMs = 0 } = options;
    this.#ticker = options.ticker ?? sharedTicker();
    if (!(frameMs > 0) || frameMs % this.#ticker.periodMs !== 0) {
      throw new RangeError(
        `Cannot pace ${frameMs} ms frames on a ${this.#ticker.periodMs} ms ticker: need a positive multiple`,
      );
    }
    if (!Number.isInteger(maxBurst) || maxBurst < 1) {
      throw new RangeError(`Cannot pace with maxBurst ${maxBurst}: need a positive integer`);
    }
    if (!(leadMs >= 0)) throw new RangeError(`Cannot pace with a lead of ${leadMs} ms: need zero or more`);
    if (!(startDelayMs >= 0)) throw new RangeError(`Cannot pace with startDelayMs ${startDelayMs}`);
    if (!(prebufferMs >= 0)) throw new RangeError(`Cannot pace with prebufferMs ${prebufferMs}`);
    this.frameMs = frameMs;
    this.#send = options.send;
    this.#onMark = options.onMark ?? (() => {});
    this.#refill = options.refill;
    this.#refillTarget = Math.ceil(leadMs / frameMs) + maxBurst + 2;
    this.#leadMs = leadMs;
    this.#maxBurst = maxBurst;
    this.#startDelayMs = startDelayMs;
    this.#prebufferMs = prebufferMs;
    this.#silence = options.silence;
    if (this.#silence !== undefined) this.#subscribe();
  }

  /** Milliseconds of queued frames not yet sent. */
  get queuedMs(): number {
    return this.#frames * this.frameMs;
  }

  /** Frames queued and not yet sent. */
  get queuedFrames(): number {
    return this.#frames;
  }

  /** Milliseconds of sent audio the listener has not heard yet (the lead, as far as TOM can tell). */
  get aheadMs(): number {
    return Math.max(0, this.#heardBy - this.#ticker.clock.now());
  }

  /** Frames handed to `send` (silence included). */
  get sentFrames(): number {
    return this.#sent;
  }

  /** Runs started: the first frame, and every frame that found the queue empty and its slot passed. */
  get runs(): number {
    return this.#runs;
  }

  /** Frame slots given up because a tick came more than `maxBurst` frames late. */
  get slippedFrames(): number {
    return this.#slipped;
  }

  /** Change the keep-alive frame (AudioSocket switches format once it learns the caller's rate). */
  set silence(frame: T | undefined) {
    this.#silence = frame;
    if (frame !== undefined) this.#subscribe();
  }

  /** Queue one frame; ignored after {@linkcode Pacer.stop}. */
  enqueue(frame: T): void {
    if (this.#stopped) return;
    if (this.#frames === 0 && !this.#running) {
      const now = this.#ticker.clock.now();
      this.#filledAt = now;
      if (!this.#anchored && this.#silence === undefined && this.#prebufferMs === 0 && !this.#paused) {
        // A run continues if this frame arrives in time for its slot; otherwise a new one starts.
        this.#runAt = this.#heardBy >= now
          ? this.#heardBy
          : this.#ticker.nextTickAt(now + this.#startDelayMs);
      }
    }
    this.#queue.push(frame);
    this.#frames++;
    this.#subscribe();
  }

  /** Queue a mark: `onMark(name, false)` fires once every frame queued before it has been sent. */
  mark(name: string): void {
    if (this.#stopped) return;
    this.#queue.push(new Mark(name));
    this.#subscribe();
  }

  /** Call `sent` once the next frame queued after this point has been written (TOM's audio on the wire). */
  cue(sent: () => void): void {
    if (this.#stopped) return;
    this.#queue.push(new Cue(sent));
  }

  /** Flow control (chan_websocket's MEDIA_XOFF): stop sending until {@linkcode Pacer.resume}. */
  pause(): void {
    this.#paused = true;
  }

  /** Flow control (MEDIA_XON): the schedule restarts where the listener is. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#anchored = false;
    this.#runAt = undefined;
  }

  /** Barge-in: drop the queue (pending marks fire with `cleared`, in order); the peer's lead is forgotten. */
  clear(): void {
    this.#epoch++;
    const dropped = this.#queue.slice(this.#head);
    this.#queue = [];
    this.#head = 0;
    this.#frames = 0;
    this.#heardBy = -Infinity;
    this.#running = false;
    this.#afterAudio = false;
    this.#runAt = undefined;
    this.#cues = [];
    this.#sentCues.length = 0;
    // With a lead the schedule ran ahead of the listener: after a flush it restarts where the listener is.
    if (this.#silence === undefined || this.#leadMs > 0) this.#anchored = false;
    if (this.#silence === undefined) this.#unsubscribe();
    for (const e of dropped) if (e instanceof Mark) this.#onMark(e.name, true);
  }

  /** End of call: like {@linkcode Pacer.clear}, the schedule stops, and later frames and marks are ignored. */
  stop(): void {
    this.#stopped = true;
    this.clear();
    this.#silence = undefined;
    this.#unsubscribe();
  }

  #subscribe(): void {
    if (this.#subscribed || this.#stopped) return;
    this.#subscribed = true;
    this.#ticker.add(this.#tick);
  }

  #unsubscribe(): void {
    if (!this.#subscribed) return;
    this.#subscribed = false;
    this.#ticker.remove(this.#tick);
  }

  #service(tickMs: number): void {
    if (this.#paused) return;
    if (this.#refill && this.#frames < this.#refillTarget) this.#refill(this.#refillTarget - this.#frames);
    const epoch = this.#epoch;
    this.#firstMarks();
    if (epoch !== this.#epoch) return;
    const silence = this.#silence;
    if (!this.#anchored) {
      if (silence === undefined && (this.#frames === 0 || !this.#ready(tickMs))) {
        if (this.#head >= this.#queue.length) this.#idle();
        return;
      }
      // A run starts where the listener will be: after what the peer still holds, or now.
      let start = this.#runAt;
      if (start === undefined) {
        const now = this.#startDelayMs > 0 ? this.#ticker.nextTickAt(tickMs + this.#startDelayMs) : tickMs;
        start = Math.max(now, this.#heardBy);
      }
      if (start !== this.#heardBy) this.#runs++;
      this.#start = start;
      this.#runAt = undefined;
      this.#n = 0;
      this.#anchored = true;
      if (silence === undefined) this.#running = true;
    }
    const ahead = Math.floor(this.#leadMs / this.frameMs);
    let due = Math.floor((tickMs + this.#leadMs + EPSILON_MS - this.#start) / this.frameMs) + 1 - this.#n;
    // Without silence only queued frames can be late: a short queue is never slipped past.
    const late = silence === undefined ? Math.min(due, this.#frames) : due;
    if (late > ahead + this.#maxBurst) {
      const skip = late - ahead - this.#maxBurst;
      this.#start += skip * this.frameMs;
      this.#slipped += skip;
      due -= skip;
    }
    // Without silence the queue may hold fewer frames than slots: still at most a burst per tick.
    due = Math.min(due, ahead + this.#maxBurst);
    if (due <= 0) {
      // Nothing due this tick (the common case between frames): no work, no allocation.
      this.#heardBy = this.#start + this.#n * this.frameMs;
      return;
    }
    const batch: T[] = [];
    const marks = this.#marks;
    const cues = this.#sentCues;
    let stopped = false;
    while (due > 0) {
      if (this.#frames === 0 && silence === undefined) {
        stopped = true;
        break;
      }
      if (this.#frames === 0) this.#running = false;
      else if (!this.#running) this.#running = this.#ready(tickMs);
      // Silence is never sent ahead of the listener (only audio may use the lead), and with a lead it
      // waits a margin more: the peer's playback runs behind TOM's clock, and silence sent while its
      // queue still holds the answer's last frame lands in front of that frame (measured with Asterisk
      // 22 over chan_websocket ulaw: the answer's tail 80 ms late).
      const margin = this.#leadMs > 0 && this.#afterAudio ? SILENCE_MARGIN_MS : 0;
      if (!this.#running && this.#start + this.#n * this.frameMs + margin > tickMs + EPSILON_MS) break;
      let frame: T | undefined;
      let found = false;
      while (this.#running && this.#head < this.#queue.length) {
        const e = this.#queue[this.#head++];
        if (e instanceof Mark) marks.push(e.name);
        else if (e instanceof Cue) this.#cues.push(e.sent);
        else {
          frame = e;
          found = true;
          this.#frames--;
          if (this.#cues.length > 0) {
            for (const cue of this.#cues) cues.push(cue);
            this.#cues.length = 0;
          }
          break;
        }
      }
      if (marks.length > 0) {
        // Marks sit between frames: send what precedes them first, so the order on the wire holds.
        this.#flush(batch, this.#start + (this.#n - batch.length) * this.frameMs, marks);
        if (epoch !== this.#epoch) return;
      }
      this.#afterAudio = found;
      batch.push(found ? frame as T : silence as T);
      this.#n++;
      due--;
    }
    this.#heardBy = this.#start + this.#n * this.frameMs;
    this.#flush(batch, this.#start + (this.#n - batch.length) * this.frameMs, marks, cues);
    if (epoch !== this.#epoch) return;
    this.#firstMarks();
    if (stopped || (this.#frames === 0 && this.#silence === undefined)) {
      this.#anchored = false;
      this.#running = false;
      if (this.#head >= this.#queue.length) this.#idle();
    } else if (this.#head >= this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Whether a waiting run may start: a second frame is queued, or the first has waited long enough. */
  #ready(tickMs: number): boolean {
    return this.#frames * this.frameMs > this.#prebufferMs || tickMs - this.#filledAt >= this.#prebufferMs;
  }

  /** Marks at the head of the queue (nothing before them left to send) fire at once; cues wait for a frame. */
  #firstMarks(): void {
    const epoch = this.#epoch;
    while (this.#head < this.#queue.length) {
      const e = this.#queue[this.#head];
      if (!(e instanceof Cue) && !(e instanceof Mark)) return;
      this.#head++; // before the callback: a clear() inside it must not report this mark again
      if (e instanceof Cue) this.#cues.push(e.sent);
      else this.#onMark(e.name, false);
      if (epoch !== this.#epoch) return;
    }
  }

  /** Send `batch` (its first frame due at `slotMs`), then fire `marks`; `cues` once it is written. */
  #flush(batch: T[], slotMs: number, marks: string[], cues?: (() => void)[]): void {
    if (batch.length > 0) {
      this.#sent += batch.length;
      const written = this.#send(batch.splice(0), slotMs);
      if (cues !== undefined && cues.length > 0) {
        const fire = cues.splice(0);
        if (isThenable(written)) written.then(() => fire.forEach((f) => f()), () => {});
        else fire.forEach((f) => f());
      }
    }
    if (marks.length > 0) { for (const name of marks.splice(0)) this.#onMark(name, false); }
  }

  #idle(): void {
    this.#queue = [];
    this.#head = 0;
    if (this.#silence === undefined) this.#unsubscribe();
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === "function";
}
