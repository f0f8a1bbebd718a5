/**
 * Outbound pacing for Asterisk's two media transports, on the shared {@linkcode Ticker} grid.
 *
 * Frame n of a run is due at `start + n * frameMs - leadMs` (an absolute schedule: timer jitter never
 * adds up). The two transports differ in what happens when TOM has nothing to say and how far ahead of
 * the listener frames may go:
 *
 * - AudioSocket (`silence` set, `leadMs` 0): Asterisk writes each frame to the channel as it arrives and
 *   hangs up after 2 s without one, so the schedule never stops: an empty queue sends the silence frame.
 * - chan_websocket (`leadMs` > 0, no silence): Asterisk re-times what it gets (a queue of up to 1000
 *   frames, silence of its own when empty), so frames may run `leadMs` ahead of the listener, which
 *   absorbs event-loop stalls; `FLUSH_MEDIA` takes the queued ones back on barge-in. When the queue
 *   empties the run ends, and the next run starts where the listener will be: at the end of what Asterisk
 *   still holds, or now.
 *
 * A late tick sends the overdue frames, at most `maxBurst` beyond the lead; further behind, the schedule
 * slips (counted in {@linkcode Playout.slippedFrames}) instead of bursting at the peer.
 *
 * A run of audio starts once a second frame is queued or the first has waited `prebufferMs`: a source
 * that produces audio just in time (the echo, a TTS running at real-time speed) then has a frame of
 * slack against timer jitter instead of a 20 ms hole whenever one frame is late; a source that produces
 * audio in bursts (TTS, greetings) starts at once.
 *
 * Marks are reported in stream order once every frame queued before them has been handed to `send`;
 * what "played" means after that is the transport's business (chan_websocket asks Asterisk). A cue
 * fires once the frame after it has been written (`send`'s promise settled): the moment TOM's answer
 * goes on the wire.
 *
 * With a `silence` frame and a lead, silence goes out on the real-time schedule only (never ahead): TOM's
 * answer then starts right away instead of behind a lead of queued silence.
 *
 * A `refill` source keeps a few frames queued: the transport converts TOM's audio a few frames per tick
 * as the schedule needs them instead of all at once.
 *
 * @module
 */
import { sharedTicker, type Ticker } from "../audio/ticker.ts";

/** Options of {@linkcode Playout}. */
export interface PlayoutOptions {
  /** Hands the frames due in one tick to the peer, in order (one or more); settles once written. */
  send: (frames: Uint8Array[]) => unknown;
  /** A mark's position was passed (`cleared` false) or it was dropped by clear/stop (`cleared` true). */
  onMark: (name: string, cleared: boolean) => void;
  /** Frame sent when the queue is empty; without it the schedule stops between runs. */
  silence?: Uint8Array;
  /** How far ahead of real time frames may be sent, in ms (default 0). */
  leadMs?: number;
  /** Frame duration in ms (default 20); a multiple of the ticker's period. */
  frameMs?: number;
  /** Frames sent in one tick beyond the lead when catching up (default 3). */
  maxBurst?: number;
  /** How long a lone first frame waits for a second before its run starts, in ms (default 0). */
  prebufferMs?: number;
  /** Grid (default the shared 10 ms ticker). */
  ticker?: Ticker;
  /** Asked on every tick to queue up to `frames` more frames (lazy conversion upstream). */
  refill?: (frames: number) => void;
}

/** How far behind the listener's time silence is sent when a lead is allowed (see the service loop). */
const SILENCE_MARGIN_MS = 200;

class Mark {
  constructor(readonly name: string) {}
}
class Cue {
  constructor(readonly sent: () => void) {}
}

/** A queue of encoded frames and marks, sent on a real-time schedule. */
export class Playout {
  readonly frameMs: number;
  readonly #send: (frames: Uint8Array[]) => unknown;
  readonly #refill: ((frames: number) => void) | undefined;
  /** Frames the refill source keeps queued: the lead, a burst and two more. */
  readonly #refillTarget: number;
  /** Cues passed in the queue whose frame has not been sent yet. */
  #cues: (() => void)[] = [];
  readonly #onMark: (name: string, cleared: boolean) => void;
  readonly #leadMs: number;
  readonly #maxBurst: number;
  readonly #prebufferMs: number;
  readonly #ticker: Ticker;
  #silence: Uint8Array | undefined;
  #queue: (Uint8Array | Mark | Cue)[] = [];
  #head = 0;
  #frames = 0;
  #start = 0;
  #n = 0;
  #anchored = false;
  /** Whether audio (not silence) is flowing; when the queue first filled (for the prebuffer). */
  #running = false;
  #filledAt = 0;
  /** Listener time at which everything sent so far will have been heard. */
  #heardBy = -Infinity;
  #paused = false;
  /** The last frame sent was audio (silence then waits SILENCE_MARGIN_MS past the listener's time). */
  #afterAudio = false;
  #stopped = false;
  #subscribed = false;
  #epoch = 0;
  #sent = 0;
  #slipped = 0;
  #tick = (tickMs: number) => this.#service(tickMs);

  /**
   * @throws {RangeError} on a frame duration that is not a multiple of the ticker's period, or a
   * negative lead
   */
  constructor(opts: PlayoutOptions) {
    const { frameMs = 20, leadMs = 0, maxBurst = 3, prebufferMs = 0 } = opts;
    this.#ticker = opts.ticker ?? sharedTicker();
    if (!(frameMs > 0) || frameMs % this.#ticker.periodMs !== 0) {
      throw new RangeError(`Cannot pace ${frameMs} ms frames on a ${this.#ticker.periodMs} ms grid`);
    }
    if (!(leadMs >= 0)) throw new RangeError(`Cannot pace with a lead of ${leadMs} ms`);
    if (!Number.isInteger(maxBurst) || maxBurst < 1) {
      throw new RangeError(`Cannot pace with maxBurst ${maxBurst}: need a positive integer`);
    }
    this.frameMs = frameMs;
    this.#send = opts.send;
    this.#refill = opts.refill;
    this.#refillTarget = Math.ceil(leadMs / frameMs) + maxBurst + 2;
    this.#onMark = opts.onMark;
    this.#leadMs = leadMs;
    this.#maxBurst = maxBurst;
    this.#prebufferMs = prebufferMs;
    this.#silence = opts.silence;
    if (this.#silence) this.#subscribe();
  }

  /** Milliseconds of queued audio not yet sent. */
  get queuedMs(): number {
    return this.#frames * this.frameMs;
  }

  /** Milliseconds of sent audio the listener has not heard yet (the lead, as far as TOM can tell). */
  get aheadMs(): number {
    return Math.max(0, this.#heardBy - this.#ticker.clock.now());
  }

  /** Frames handed to `send` (silence included). */
  get sentFrames(): number {
    return this.#sent;
  }

  /** Frame slots given up because a tick came more than `maxBurst` frames late. */
  get slippedFrames(): number {
    return this.#slipped;
  }

  /** Change the keep-alive frame (AudioSocket switches format once it learns the caller's rate). */
  set silence(frame: Uint8Array | undefined) {
    this.#silence = frame;
    if (frame) this.#subscribe();
  }

  /** Queue one encoded frame. */
  enqueue(frame: Uint8Array): void {
    if (this.#stopped) return;
    if (this.#frames === 0 && !this.#running) this.#filledAt = this.#ticker.clock.now();
    this.#queue.push(frame);
    this.#frames++;
    this.#subscribe();
  }

  /** Queue a mark after the frames queued so far. */
  mark(name: string): void {
    if (this.#stopped) return;
    this.#queue.push(new Mark(name));
    this.#subscribe();
  }

  /** Call `sent` once the next frame queued after this point has been written. */
  cue(sent: () => void): void {
    if (this.#stopped) return;
    this.#queue.push(new Cue(sent));
  }

  /** Flow control (chan_websocket's MEDIA_XOFF): stop sending until {@linkcode Playout.resume}. */
  pause(): void {
    this.#paused = true;
  }

  /** Flow control (MEDIA_XON): the schedule restarts where the listener is. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#anchored = false;
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
    this.#cues = [];
    // With a lead the schedule ran ahead of the listener: after a flush it restarts where the listener is.
    if (!this.#silence || this.#leadMs > 0) this.#anchored = false;
    for (const e of dropped) if (e instanceof Mark) this.#onMark(e.name, true);
  }

  /** End of call: clear, stop the schedule, ignore what comes later. */
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
    if (!this.#anchored) {
      if (!this.#silence && (this.#frames === 0 || !this.#ready(tickMs))) {
        if (this.#head >= this.#queue.length) this.#idle();
        return;
      }
      // A run starts where the listener will be: after what the peer still holds, or now.
      this.#start = Math.max(tickMs, this.#heardBy);
      this.#n = 0;
      this.#anchored = true;
      if (!this.#silence) this.#running = true;
    }
    const ahead = Math.floor(this.#leadMs / this.frameMs);
    let due = Math.floor((tickMs + this.#leadMs - this.#start) / this.frameMs) + 1 - this.#n;
    if (due > ahead + this.#maxBurst) {
      const skip = due - ahead - this.#maxBurst;
      this.#start += skip * this.frameMs;
      this.#slipped += skip;
      due -= skip;
    }
    const batch: Uint8Array[] = [];
    const marks: string[] = [];
    const cues: (() => void)[] = [];
    let stopped = false;
    while (due > 0) {
      if (this.#frames === 0 && !this.#silence) {
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
      if (!this.#running && this.#start + this.#n * this.frameMs + margin > tickMs + 1e-6) break;
      let frame: Uint8Array | undefined;
      while (this.#running && this.#head < this.#queue.length) {
        const e = this.#queue[this.#head++];
        if (e instanceof Mark) marks.push(e.name);
        else if (e instanceof Cue) this.#cues.push(e.sent);
        else {
          frame = e;
          this.#frames--;
          cues.push(...this.#cues.splice(0));
          break;
        }
      }
      if (marks.length > 0 && batch.length > 0) {
        // Marks sit between frames: send what precedes them first, so the order on the wire holds.
        this.#flush(batch, marks);
        if (epoch !== this.#epoch) return;
      } else if (marks.length > 0) {
        for (const name of marks.splice(0)) this.#onMark(name, false);
        if (epoch !== this.#epoch) return;
      }
      this.#afterAudio = frame !== undefined;
      batch.push(frame ?? this.#silence as Uint8Array);
      this.#n++;
      due--;
    }
    this.#heardBy = this.#start + this.#n * this.frameMs;
    this.#flush(batch, marks, cues);
    if (epoch !== this.#epoch) return;
    this.#firstMarks();
    if (stopped || (this.#frames === 0 && !this.#silence)) {
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
      if (e instanceof Cue) this.#cues.push(e.sent);
      else if (e instanceof Mark) this.#onMark(e.name, false);
      else return;
      this.#head++;
      if (epoch !== this.#epoch) return;
    }
  }

  #flush(batch: Uint8Array[], marks: string[], cues: (() => void)[] = []): void {
    if (batch.length > 0) {
      this.#sent += batch.length;
      const written = this.#send(batch.splice(0));
      if (cues.length > 0) {
        const fire = cues.splice(0);
        Promise.resolve(written).then(() => fire.forEach((f) => f()), () => {});
      }
    }
    for (const name of marks.splice(0)) this.#onMark(name, false);
  }

  #idle(): void {
    this.#queue = [];
    this.#head = 0;
    if (!this.#silence) this.#unsubscribe();
  }
}
