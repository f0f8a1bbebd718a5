// One synthetic call of `tom probe --audiosocket`: TOM's AudioSocket server, called the way Asterisk does
// (UUID, then 20 ms slin16 frames all the time, hang-up at the end). There are no pipeline events on this
// transport: voice-to-voice is from the caller's last voiced sample sent to the first loud frame of TOM's
// answer received; an answer ends after 1.5 s without a loud frame. Nothing loud within the answer wait
// counts the utterance as unanswered (this transport cannot tell a re-prompt from an answer).
import { AudioSocketParser, encodeAudio, encodeMessage, KIND, uuidBytes } from "../../gateway/mod.ts";
import { lastVoiced, type ProbeCallResult, type ProbeTurn } from "./call.ts";

/** Options of {@linkcode probeAudioSocketCall}. */
export interface ProbeAudioSocketOptions {
  host: string;
  port: number;
  utterances: Int16Array[];
  trailingSilenceMs: number;
  answerTimeoutMs: number;
}

const SLIN16 = 0x12;
const QUIET_MS = 1_500;

function loud(pcm: Int16Array): boolean {
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) sum += pcm[i] * pcm[i];
  return Math.sqrt(sum / Math.max(1, pcm.length)) > 100; // about -50 dBFS
}

/** Place one AudioSocket call and speak every utterance once, waiting for each answer. */
export async function probeAudioSocketCall(o: ProbeAudioSocketOptions): Promise<ProbeCallResult> {
  const uuid = crypto.randomUUID();
  const result: ProbeCallResult = { callId: uuid, greetingMs: null, turns: [] };
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: o.host, port: o.port });
  } catch (e) {
    return { ...result, error: `Cannot connect to AudioSocket ${o.host}:${o.port}: ${(e as Error).message}` };
  }
  let closed = false;
  let lastLoudAt = -Infinity;
  let firstLoudAfter: { since: number; at: number | null } = { since: Infinity, at: null };
  const reader = (async () => {
    const parser = new AudioSocketParser();
    const buf = new Uint8Array(65536);
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        const now = performance.now();
        for (const m of parser.push(buf.subarray(0, n))) {
          if (m.kind === "hangup") closed = true;
          if (m.kind !== "audio" || !loud(m.pcm)) continue;
          lastLoudAt = now;
          if (firstLoudAfter.at === null && now >= firstLoudAfter.since) firstLoudAfter.at = now;
        }
      }
    } catch {
      // reset
    } finally {
      closed = true;
    }
  })();
  // One writer at a time, so messages never interleave on the stream.
  let writing: Promise<void> = Promise.resolve();
  const send = (bytes: Uint8Array): Promise<void> => {
    writing = writing.then(async () => {
      let at = 0;
      while (at < bytes.length) at += await conn.write(bytes.subarray(at));
    });
    return writing;
  };
  await send(encodeMessage(KIND.uuid, uuidBytes(uuid))).catch(() => (closed = true));
  const t0 = performance.now();
  firstLoudAfter = { since: t0, at: null };
  // The caller's line: 20 ms frames at real time, silence unless an utterance is queued.
  const queue: { pcm: Int16Array; off: number; voicedEnd: number; turn: { lastVoice: number } }[] = [];
  let stop = false;
  const silence = new Int16Array(320);
  const line = (async () => {
    const start = performance.now();
    for (let k = 0; !stop && !closed; k++) {
      const head = queue[0];
      let frame: Int16Array = silence;
      if (head) {
        const off = head.off;
        frame = head.pcm.subarray(off, off + 320);
        if (off <= head.voicedEnd) {
          head.turn.lastVoice = performance.now();
          firstLoudAfter = { since: head.turn.lastVoice, at: null };
        }
        head.off = off + 320;
        if (off + 320 >= head.pcm.length) queue.shift();
      }
      await send(encodeAudio(SLIN16, frame.length === 320 ? frame : padded(frame))).catch(
        () => (closed = true),
      );
      const wait = start + (k + 1) * 20 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  const until = async (cond: () => boolean, ms: number, what: string) => {
    const end = performance.now() + ms;
    while (!cond()) {
      if (closed) throw new Error(`Call closed while waiting for ${what}`);
      if (performance.now() > end) throw new Error(`No ${what} within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  try {
    await until(() => firstLoudAfter.at !== null, 30_000, "greeting audio");
    result.greetingMs = (firstLoudAfter.at ?? t0) - t0;
    await until(() => performance.now() - lastLoudAt > QUIET_MS, 60_000, "the end of the greeting");
    for (const pcm of o.utterances) {
      const turn: ProbeTurn = { voiceToVoiceMs: null, stages: {}, interrupted: false, answered: false };
      result.turns.push(turn);
      const all = new Int16Array(pcm.length + o.trailingSilenceMs * 16);
      all.set(pcm);
      const mark = { lastVoice: 0 };
      queue.push({ pcm: all, off: 0, voicedEnd: lastVoiced(pcm), turn: mark });
      try {
        try {
          await until(() => queue.length === 0 && firstLoudAfter.at !== null, o.answerTimeoutMs, "answer");
        } catch (e) {
          if (closed) throw e;
          // Nothing from TOM within the wait: count the utterance as unanswered and speak the next one.
          turn.unanswered = "timeout";
          continue;
        }
        turn.answered = true;
        turn.voiceToVoiceMs = (firstLoudAfter.at ?? 0) - mark.lastVoice;
        await until(
          () => performance.now() - lastLoudAt > QUIET_MS,
          o.answerTimeoutMs,
          "the end of the answer",
        );
      } catch (e) {
        turn.error = (e as Error).message;
        break;
      }
    }
  } catch (e) {
    result.error = (e as Error).message;
  } finally {
    stop = true;
    await line;
    await send(encodeMessage(KIND.hangup)).catch(() => {});
    await writing.catch(() => {});
    await Promise.race([reader, new Promise((r) => setTimeout(r, 2_000))]);
    try {
      conn.close();
    } catch {
      // closed
    }
    await reader;
  }
  return result;
}

function padded(pcm: Int16Array): Int16Array {
  const out = new Int16Array(320);
  out.set(pcm);
  return out;
}
