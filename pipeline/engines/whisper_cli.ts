/**
 * whisper.cpp's command-line transcriber as a fallback for whisper-server: writes the utterance to a
 * temporary WAV, runs `whisper-cli -m MODEL -f in.wav -l LANG -oj -of out -np -t N` and reads
 * `out.json` (`{"transcription":[{"text":...}, ...], "result":{"language":...}}`). Slower than the server
 * (it loads the model for every utterance), but it needs no running server. The temporary directory is
 * removed afterwards; aborting kills the process.
 *
 * @module
 */
import { join } from "node:path";
import type { EngineError } from "./types.ts";
import { engineError } from "./llm_http.ts";
import { pcm16ToWav } from "./stt_wav.ts";

/** Options of {@linkcode runWhisperCli}. */
export interface WhisperCliOptions {
  bin: string;
  model: string;
  language: string;
  threads?: number;
  signal: AbortSignal;
  /** Kill the process after this long (default 60 s). */
  timeoutMs?: number;
}

/** What {@linkcode runWhisperCli} found: the text, or an error; `null` when aborted. */
export type WhisperCliResult = { text: string; language?: string } | { error: EngineError } | null;

/** Transcribe one 16 kHz mono utterance with whisper-cli. Never throws. */
export async function runWhisperCli(pcm: Int16Array, o: WhisperCliOptions): Promise<WhisperCliResult> {
  if (o.signal.aborted) return null;
  const dir = await Deno.makeTempDir({ prefix: "tom-whisper-" });
  const ac = new AbortController();
  const onAbort = () => ac.abort();
  o.signal.addEventListener("abort", onAbort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ac.abort();
  }, o.timeoutMs ?? 60_000);
  try {
    const wav = join(dir, "in.wav");
    await Deno.writeFile(wav, pcm16ToWav(pcm));
    const args = ["-m", o.model, "-f", wav, "-l", o.language, "-oj", "-of", join(dir, "out"), "-np"];
    if (o.threads) args.push("-t", String(o.threads));
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command(o.bin, {
        args,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        signal: ac.signal,
      })
        .output();
    } catch (err) {
      if (o.signal.aborted) return null;
      const msg = err instanceof Error ? err.message : String(err);
      return { error: engineError("stt", "unavailable", `Cannot run whisper-cli ${o.bin}: ${msg}`, false) };
    }
    if (o.signal.aborted) return null;
    if (timedOut) {
      return {
        error: engineError(
          "stt",
          "timeout",
          `whisper-cli took longer than ${o.timeoutMs ?? 60_000} ms`,
          true,
        ),
      };
    }
    if (!out.success) {
      const tail = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join(" | ");
      return {
        error: engineError("stt", "crashed", `whisper-cli exited with code ${out.code}: ${tail}`, true),
      };
    }
    let json: { transcription?: Array<{ text?: string }>; result?: { language?: string } };
    try {
      json = JSON.parse(await Deno.readTextFile(join(dir, "out.json")));
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      return {
        error: engineError("stt", "bad_response", `whisper-cli wrote no readable JSON: ${msg}`, true),
      };
    }
    const text = (json.transcription ?? []).map((s) => s.text ?? "").join("").trim();
    return { text, language: json.result?.language };
  } finally {
    clearTimeout(timer);
    o.signal.removeEventListener("abort", onAbort);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
