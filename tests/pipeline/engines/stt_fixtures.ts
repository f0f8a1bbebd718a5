/**
 * Test helpers for the speech-to-text engine tests: German speech made with espeak-ng (resampled to
 * 16 kHz with sox when present), a counting HTTP proxy in front of a real engine, and frame collection.
 *
 * @module
 */
import { join } from "node:path";

/** True when a command can be run. */
export function hasCommand(cmd: string): boolean {
  try {
    return new Deno.Command(cmd, { args: ["--version"], stdout: "null", stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
}

/** Read mono PCM16 samples and the rate from a WAV file (walks the chunks). */
export function readWav(bytes: Uint8Array): { pcm: Int16Array; sampleRate: number } {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (tag(0) !== "RIFF" || tag(8) !== "WAVE") throw new Error("Cannot read WAV: not a RIFF/WAVE file");
  let at = 12;
  let sampleRate = 0;
  let channels = 1;
  while (at + 8 <= bytes.length) {
    const id = tag(at);
    const size = v.getUint32(at + 4, true);
    if (id === "fmt ") {
      channels = v.getUint16(at + 10, true);
      sampleRate = v.getUint32(at + 12, true);
    } else if (id === "data") {
      const n = Math.floor(Math.min(size, bytes.length - at - 8) / 2 / channels);
      const pcm = new Int16Array(n);
      for (let i = 0; i < n; i++) pcm[i] = v.getInt16(at + 8 + i * 2 * channels, true);
      return { pcm, sampleRate };
    }
    at += 8 + size + (size % 2);
  }
  throw new Error("Cannot read WAV: no data chunk");
}

function resampleLinear(pcm: Int16Array, from: number, to: number): Int16Array {
  const out = new Int16Array(Math.floor((pcm.length * to) / from));
  for (let i = 0; i < out.length; i++) {
    const x = (i * from) / to;
    const j = Math.floor(x);
    const f = x - j;
    out[i] = Math.round(pcm[j] * (1 - f) + (pcm[Math.min(j + 1, pcm.length - 1)] ?? 0) * f);
  }
  return out;
}

/** Why German speech cannot be made here, or undefined when it can. */
export const SPEECH_MISSING: string | undefined = hasCommand("espeak-ng")
  ? undefined
  : "espeak-ng is not installed (apt-get install espeak-ng sox)";

/** German speech as 16 kHz mono PCM16, synthesized by espeak-ng. */
export async function germanSpeech(text = "Guten Tag, ich möchte einen Termin"): Promise<Int16Array> {
  const dir = await Deno.makeTempDir({ prefix: "tom-stt-test-" });
  try {
    const raw = join(dir, "raw.wav");
    const out = await new Deno.Command("espeak-ng", { args: ["-v", "de", "-w", raw, text] }).output();
    if (!out.success) throw new Error(`espeak-ng failed: ${new TextDecoder().decode(out.stderr)}`);
    if (hasCommand("sox")) {
      const wav16 = join(dir, "16k.wav");
      const s = await new Deno.Command("sox", { args: [raw, "-r", "16000", "-c", "1", "-b", "16", wav16] })
        .output();
      if (!s.success) throw new Error(`sox failed: ${new TextDecoder().decode(s.stderr)}`);
      return readWav(await Deno.readFile(wav16)).pcm;
    }
    const { pcm, sampleRate } = readWav(await Deno.readFile(raw));
    return resampleLinear(pcm, sampleRate, 16_000);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Collect every frame of an async iterable. */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const f of it) out.push(f);
  return out;
}

/** An HTTP proxy that forwards to `upstream` and counts the requests per path. */
export interface CountingProxy {
  url: string;
  count(path: string): number;
  close(): Promise<void>;
}

/** Start a {@linkcode CountingProxy} on a free loopback port. */
export function countingProxy(upstream: string): CountingProxy {
  const counts = new Map<string, number>();
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    async (req) => {
      const u = new URL(req.url);
      counts.set(u.pathname, (counts.get(u.pathname) ?? 0) + 1);
      try {
        const res = await fetch(upstream + u.pathname + u.search, {
          method: req.method,
          headers: req.headers,
          body: req.body ? await req.arrayBuffer() : undefined,
        });
        return new Response(await res.arrayBuffer(), { status: res.status, headers: res.headers });
      } catch (err) {
        return new Response(String(err), { status: 502 });
      }
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    count: (path) => counts.get(path) ?? 0,
    close: async () => {
      ac.abort();
      await server.finished;
    },
  };
}
