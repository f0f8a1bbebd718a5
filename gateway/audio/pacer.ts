/**
 * Real-time pacing for peers that play what they receive at once (Twilio Media Streams, chan_websocket
 * without buffering, the browser): one frame per `frameMs`, marks in stream order, `clear()` for barge-in.
 *
 * Frame n of a run is due at `start + n * frameMs`, an absolute schedule, so timer jitter never adds up.
 * `start` is the first tick of the {@linkcode Ticker}'s grid at or after the moment the queue stopped
 * being empty (plus `leadMs`), so every slot falls on a tick. A late tick sends the overdue frames, at
 * most `maxBurst` per tick; when more than that are overdue the schedule slips forward (counted in
 * {@linkcode Pacer.slippedFrames}) rather than bursting the backlog at the peer.
 *
 * @module
 */
import { sharedTicker, type Ticker } from "./ticker.ts";

/** Options of {@linkcode Pacer}. */
export interface PacerOptions<T> {
  /** Sends one frame to the peer; `slotMs` is the time it was due (on the ticker's clock). */
  send: (frame: T, slotMs: number) => void;
  /** A mark's position was reached (everything before it sent), or it was dropped by clear/stop. */
  onMark?: (name: string, cleared: boolean) => void;
  /** Duration of one frame in ms (default 20); a multiple of the ticker's period. */
  frameMs?: number;
  /** Most frames sent in one tick when catching up (default 3). */
  maxBurst?: number;
  /** Extra delay before the first frame of a run, in ms (default 0): slack for a just-in-time source. */
  leadMs?: number;
  /** Grid to run on (default {@linkcode sharedTicker}). */
  ticker?: Ticker;
}

/**
 * Tolerance when comparing slot and tick times: both are sums of a fractional clock origin and whole
 * milliseconds, added in different orders, so equal times can differ in the last bits.
 */
const EPSILON_MS = 1e-6;

/** A queued mark (a private class, so no frame can be mistaken for one). */
class MarkEntry {
  constructor(readonly name: string) {}
}
/** A queued cue: `sent` fires right after the next frame is sent. */
class CueEntry {
  constructor(readonly sent: () => void) {}
}

/** Paces frames of type `T` (bytes, strings, anything the transport sends) at one per `frameMs`. */
export class Pacer<T> {
  readonly frameMs: number;
  #send: (frame: T, slotMs: number) => void;
  #onMark: (name: string, cleared: boolean) => void;
  #maxBurst: number;
  #leadMs: number;
  #ticker: Ticker;
  #queue: (T | MarkEntry | CueEntry)[] = [];
  /** Cues passed whose frame has not been sent yet. */
  #cues: (() => void)[] = [];
  #head = 0;
  #frames = 0;
  /** Start of the current run and the index of its next frame; `anchored` is false between runs. */
  #start = 0;
  #n = 0;
  #anchored = false;
  #subscribed = false;
  #stopped = false;
  /** Bumped by clear/stop so a service loop notices a callback changed the queue under it. */
  #epoch = 0;
  #sent = 0;
  #slipped = 0;
  #runs = 0;
  #tick = (tickMs: number) => this.#service(tickMs);

  /** @param options send callback, mark callback, frame duration, burst limit, lead, ticker */
  constructor(options: PacerOptions<T>) {
    const { frameMs = 20, maxBurst = 3, leadMs = 0 } = options;
    this.#ticker = options.ticker ?? sharedTicker();
    if (!(frameMs > 0) || frameMs % this.#ticker.periodMs !== 0) {
      throw new RangeError(
        `Cannot pace ${frameMs} ms frames on a ${this.#ticker.periodMs} ms ticker: need a positive multiple`,
      );
    }
    if (!Number.isInteger(maxBurst) || maxBurst < 1) {
      throw new RangeError(`Cannot pace with maxBurst ${maxBurst}: need a positive integer`);
    }
    if (!(leadMs >= 0)) throw new RangeError(`Cannot pace with leadMs ${leadMs}: need zero or more`);
    this.frameMs = frameMs;
    this.#send = options.send;
    this.#onMark = options.onMark ?? (() => {});
    this.#maxBurst = maxBurst;
    this.#leadMs = leadMs;
  }

  /** Milliseconds of queued frames not yet sent. */
  get queuedMs(): number {
    return this.#frames * this.frameMs;
  }

  /** Frames queued and not yet sent. */
  get queuedFrames(): number {
    return this.#frames;
  }

  /** Frames sent so far (what a peer that plays at once has played, give or take its own buffer). */
  get sentFrames(): number {
    return this.#sent;
  }

  /** Runs started: the first frame, and every frame that found the queue empty and its slot passed. */
  get runs(): number {
    return this.#runs;
  }

  /** Frame slots given up because the pacer fell more than `maxBurst` frames behind. */
  get slippedFrames(): number {
    return this.#slipped;
  }

  /** Queue one frame; ignored after {@linkcode Pacer.stop}. */
  enqueue(frame: T): void {
    if (this.#stopped) return;
    if (this.#frames === 0) {
      // A run continues if this frame arrives in time for its slot; otherwise a new run starts.
      const now = this.#ticker.clock.now();
      if (!this.#anchored || this.#start + this.#n * this.frameMs < now) {
        this.#start = this.#ticker.nextTickAt(now + this.#leadMs);
        this.#n = 0;
        this.#anchored = true;
        this.#runs++;
      }
    }
    this.#queue.push(frame);
    this.#frames++;
    this.#subscribe();
  }

  /** Queue a mark: `onMark(name, false)` fires once every frame queued before it has been sent. */
  mark(name: string): void {
    if (this.#stopped) return;
    this.#queue.push(new MarkEntry(name));
    this.#subscribe();
  }

  /** Call `sent` right after the next frame queued after this point has been sent (TOM's audio on the wire). */
  cue(sent: () => void): void {
    if (this.#stopped) return;
    this.#queue.push(new CueEntry(sent));
  }

  /** Barge-in: drop every queued frame; pending marks fire with `cleared = true`, in order. */
  clear(): void {
    this.#epoch++;
    const dropped = this.#queue.slice(this.#head);
    this.#queue = [];
    this.#head = 0;
    this.#frames = 0;
    this.#anchored = false;
    this.#cues = [];
    this.#unsubscribe();
    for (const entry of dropped) {
      if (entry instanceof MarkEntry) this.#onMark(entry.name, true);
    }
  }

  /** End of call: like {@linkcode Pacer.clear}, and later frames and marks are ignored. */
  stop(): void {
    this.#stopped = true;
    this.clear();
  }

  #subscribe(): void {
    if (this.#subscribed) return;
    this.#subscribed = true;
    this.#ticker.add(this.#tick);
  }

  #unsubscribe(): void {
    if (!this.#subscribed) return;
    this.#subscribed = false;
    this.#ticker.remove(this.#tick);
  }

  #service(tickMs: number): void {
    const epoch = this.#epoch;
    if (this.#frames > 0) {
      const behind = Math.floor((tickMs + EPSILON_MS - this.#start) / this.frameMs);
      const due = Math.min(this.#frames, behind - this.#n + 1);
      if (due > this.#maxBurst) {
        const skip = due - this.#maxBurst;
        this.#start += skip * this.frameMs;
        this.#slipped += skip;
      }
    }
    let burst = 0;
    while (this.#head < this.#queue.length && epoch === this.#epoch) {
      const entry = this.#queue[this.#head];
      if (entry instanceof MarkEntry) {
        this.#head++;
        this.#onMark(entry.name, false);
        continue;
      }
      if (entry instanceof CueEntry) {
        this.#head++;
        this.#cues.push(entry.sent);
        continue;
      }
      const slot = this.#start + this.#n * this.frameMs;
      if (slot > tickMs + EPSILON_MS || burst >= this.#maxBurst) break;
      this.#head++;
      this.#frames--;
      this.#n++;
      this.#sent++;
      burst++;
      this.#send(entry, slot);
      if (this.#cues.length > 0) { for (const sent of this.#cues.splice(0)) sent(); }
    }
    if (epoch !== this.#epoch) return;
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
      this.#unsubscribe();
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }
}
