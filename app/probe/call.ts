// One synthetic call of `tom probe` through the browser protocol: speaks PCM utterances at real time,
// measures voice-to-voice (caller's last voiced sample sent -> TOM's first answer sample received) and
// collects the pipeline's own per-stage latencies from `turn_end`. An utterance TOM does not answer (no
// `turn_end` of a new turn; TOM re-prompted instead, or the wait ran out) is counted as unanswered and
// the call goes on with the next utterance.

/** What one turn measured. */
export interface ProbeTurn {
  /** Caller's last voiced sample sent -> first sample of TOM's answer received, ms. */
  voiceToVoiceMs: number | null;
  /** TOM's own stage latencies (from `turn_end`). */
  stages: Record<string, number>;
  interrupted: boolean;
  /** False when TOM did not answer this utterance (then `unanswered` says how that showed). */
  answered: boolean;
  /** `prompted`: TOM re-prompted instead of answering; `timeout`: nothing within the answer wait. */
  unanswered?: "prompted" | "timeout";
  /** Answered, but TOM was still speaking when the answer wait ran out (stage figures only if the next
   * utterance interrupted it). */
  unfinished?: true;
  error?: string;
}

/** What one call measured. */
export interface ProbeCallResult {
  callId: string;
  greetingMs: number | null;
  turns: ProbeTurn[];
  error?: string;
}

/** Options of {@linkcode probeCall}. */
export interface ProbeCallOptions {
  /** `ws://host:port/ws/stream/<id>?token=...` */
  url: string;
  callId: string;
  utterances: Int16Array[];
  /** Silence sent after each utterance, ms (the line keeps carrying audio). */
  trailingSilenceMs: number;
  /** Longest wait for an answer, ms. */
  answerTimeoutMs: number;
  /** TOM's re-prompt (said when it heard nothing to answer): after an utterance, TOM did not take it. */
  repromptText: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function bytes(pcm: Int16Array): Uint8Array {
  const out = new Uint8Array(pcm.length * 2);
  const v = new DataView(out.buffer);
  for (let i = 0; i < pcm.length; i++) v.setInt16(i * 2, pcm[i], true);
  return out;
}

/** Index of the last sample louder than -36 dBFS (espeak-ng pads its audio with silence). */
export function lastVoiced(pcm: Int16Array, threshold = 500): number {
  for (let i = pcm.length - 1; i >= 0; i--) if (Math.abs(pcm[i]) > threshold) return i;
  return 0;
}

/** Place one call and speak every utterance once, waiting for each answer. */
export async function probeCall(o: ProbeCallOptions): Promise<ProbeCallResult> {
  const ws = new WebSocket(o.url);
  ws.binaryType = "arraybuffer";
  const events: Record<string, unknown>[] = [];
  // The highest turn of TOM's replies seen so far (`tts_audio`, `turn_end`). The answer to an utterance
  // is a reply of a later turn; TOM's own phrases (the re-prompt) carry the current turn, and a long
  // answer still playing keeps its own.
  let seenTurn = 0;
  /** The awaited answer: its turn once its first `tts_audio` came, and when its first frame arrived. */
  let answer: { turnAfter: number; turn: number | null; at: number | null } | null = null;
  let frames = 0;
  let wake: (() => void) | null = null;
  ws.onmessage = (ev) => {
    const now = performance.now();
    if (typeof ev.data === "string") {
      const e = JSON.parse(ev.data);
      events.push(e);
      if ((e.type === "tts_audio" || e.type === "turn_end") && typeof e.turn === "number") {
        if (answer && answer.turn === null && e.type === "tts_audio" && e.turn > answer.turnAfter) {
          answer.turn = e.turn;
        }
        seenTurn = Math.max(seenTurn, e.turn);
      }
    } else {
      frames++;
      if (answer && answer.turn !== null && answer.at === null) answer.at = now;
    }
    wake?.();
  };
  const closed = new Promise<void>((r) => ws.addEventListener("close", () => r()));
  ws.onclose = () => wake?.();
  const until = async (cond: () => boolean, ms: number, what: string) => {
    const end = performance.now() + ms;
    while (!cond()) {
      if (ws.readyState === WebSocket.CLOSED) throw new Error(`Call closed while waiting for ${what}`);
      const left = end - performance.now();
      if (left <= 0) throw new Error(`No ${what} within ${ms} ms`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, Math.min(left, 100));
      });
    }
  };
  const result: ProbeCallResult = { callId: o.callId, greetingMs: null, turns: [] };
  const t0 = performance.now();
  try {
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => reject(new Error("WebSocket failed to open"));
    });
    ws.send(JSON.stringify({ type: "start" }));
    await until(() => frames > 0, 30_000, "greeting audio");
    result.greetingMs = performance.now() - t0;
    await until(() => events.some((e) => e.type === "mark"), 60_000, "the end of the greeting");
    const unfinished = new Map<number, ProbeTurn>();
    for (const pcm of o.utterances) {
      const turn: ProbeTurn = { voiceToVoiceMs: null, stages: {}, interrupted: false, answered: false };
      result.turns.push(turn);
      try {
        const all = new Int16Array(pcm.length + o.trailingSilenceMs * 16);
        all.set(pcm);
        const voicedEnd = lastVoiced(pcm);
        const start = performance.now();
        let lastVoice = start;
        const a = { turnAfter: seenTurn, turn: null as number | null, at: null as number | null };
        answer = a;
        const seen = events.length;
        for (let i = 0, k = 0; i < all.length; i += 320, k++) {
          ws.send(bytes(all.subarray(i, i + 320)));
          if (i <= voicedEnd) lastVoice = performance.now();
          const wait = start + (k + 1) * 20 - performance.now();
          if (wait > 0) await sleep(wait);
        }
        const after = () => events.slice(seen);
        // `turn_end` comes once the answer has been played (its mark came back) or was interrupted.
        const ended = (n: number | null) =>
          after().find((e) =>
            e.type === "turn_end" && (n === null ? (e.turn as number) > a.turnAfter : e.turn === n)
          );
        // TOM's re-prompt (its own phrase, turn not advanced) after the caller spoke: the utterance was not
        // taken. An apology is no verdict: TOM retries and then answers or offers a callback.
        const prompted = () =>
          after().find((e) =>
            e.type === "tts_audio" && (e.turn as number) <= a.turnAfter && e.text === o.repromptText
          );
        const heard = () => (a.turn !== null && a.at !== null) || ended(null) !== undefined;
        let verdict: "answered" | "prompted" | "timeout" = "timeout";
        try {
          await until(() => heard() || prompted() !== undefined, o.answerTimeoutMs, "answer");
          verdict = heard() ? "answered" : "prompted";
        } catch (e) {
          if (ws.readyState === WebSocket.CLOSED) throw e;
        }
        if (verdict !== "answered") {
          turn.unanswered = verdict;
          if (verdict === "prompted") {
            // Let TOM's phrase finish (its mark) before the caller speaks again.
            const marks = after().filter((e) => e.type === "mark").length;
            await until(() => after().filter((e) => e.type === "mark").length > marks, o.answerTimeoutMs, "")
              .catch(() => {});
          }
          continue;
        }
        turn.answered = true;
        if (a.at !== null) turn.voiceToVoiceMs = a.at - lastVoice;
        const n = a.turn ?? (ended(null)?.turn as number);
        try {
          await until(() => ended(n) !== undefined, o.answerTimeoutMs, "turn_end");
        } catch (e) {
          if (ws.readyState === WebSocket.CLOSED) throw e;
          turn.unfinished = true; // still speaking: the next utterance interrupts it
          unfinished.set(n, turn);
          continue;
        }
        const te = ended(n) as { latencies: Record<string, number>; interrupted: boolean };
        turn.stages = te.latencies;
        turn.interrupted = te.interrupted;
      } catch (e) {
        turn.error = e instanceof Error ? e.message : String(e);
        break;
      } finally {
        answer = null;
      }
    }
    // An answer the next utterance interrupted ended then: its stage figures came with that `turn_end`.
    for (const [n, turn] of unfinished) {
      const te = events.find((e) => e.type === "turn_end" && e.turn === n);
      if (!te) continue;
      turn.stages = te.latencies as Record<string, number>;
      turn.interrupted = te.interrupted === true;
    }
  } catch (e) {
    result.error = e instanceof Error ? e.message : String(e);
  } finally {
    try {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "stop", reason: "probe done" }));
      await Promise.race([closed, sleep(2_000)]);
      if (ws.readyState !== WebSocket.CLOSED) ws.close();
    } catch {
      // already closed
    }
  }
  return result;
}
