// One synthetic call of `tom probe` through the browser protocol: speaks PCM utterances at real time,
// measures voice-to-voice (caller's last voiced sample sent -> TOM's first answer sample received) and
// collects the pipeline's own per-stage latencies from `turn_end`.

/** What one turn measured. */
export interface ProbeTurn {
  /** Caller's last voiced sample sent -> first sample of TOM's answer received, ms. */
  voiceToVoiceMs: number | null;
  /** TOM's own stage latencies (from `turn_end`). */
  stages: Record<string, number>;
  interrupted: boolean;
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
  let frames = 0;
  let firstFrameAfter: { since: number; at: number | null } = { since: Infinity, at: null };
  let wake: (() => void) | null = null;
  ws.onmessage = (ev) => {
    const now = performance.now();
    if (typeof ev.data === "string") events.push(JSON.parse(ev.data));
    else {
      frames++;
      if (firstFrameAfter.at === null && now >= firstFrameAfter.since) firstFrameAfter.at = now;
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
    for (const pcm of o.utterances) {
      const seen = events.length;
      const turn: ProbeTurn = { voiceToVoiceMs: null, stages: {}, interrupted: false };
      try {
        const all = new Int16Array(pcm.length + o.trailingSilenceMs * 16);
        all.set(pcm);
        const voicedEnd = lastVoiced(pcm);
        const start = performance.now();
        let lastVoice = start;
        for (let i = 0, k = 0; i < all.length; i += 320, k++) {
          ws.send(bytes(all.subarray(i, i + 320)));
          if (i <= voicedEnd) {
            lastVoice = performance.now();
            firstFrameAfter = { since: lastVoice, at: null };
          }
          const wait = start + (k + 1) * 20 - performance.now();
          if (wait > 0) await sleep(wait);
        }
        const ended = () => events.slice(seen).find((e) => e.type === "turn_end");
        await until(() => ended() !== undefined || firstFrameAfter.at !== null, o.answerTimeoutMs, "answer");
        // Voice-to-voice is known as soon as the answer's first frame arrived; `turn_end` (with TOM's own
        // stage latencies) comes when the answer has been played, which for a long answer takes a while.
        turn.voiceToVoiceMs = firstFrameAfter.at === null ? null : firstFrameAfter.at - lastVoice;
        await until(() => ended() !== undefined, o.answerTimeoutMs, "turn_end");
        const te = ended() as { latencies: Record<string, number>; interrupted: boolean };
        turn.stages = te.latencies;
        turn.interrupted = te.interrupted;
        // Let the answer finish playing (its mark) before the next utterance.
        const marks = events.filter((e) => e.type === "mark").length;
        await until(
          () => events.filter((e) => e.type === "mark").length > marks,
          o.answerTimeoutMs,
          "answer end",
        )
          .catch(() => {});
      } catch (e) {
        turn.error = e instanceof Error ? e.message : String(e);
      }
      result.turns.push(turn);
      if (turn.error) break;
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
