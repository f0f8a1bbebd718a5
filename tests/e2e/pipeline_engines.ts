// The real engines for the pipeline's end-to-end tests and the probe: whisper-server and llama-server
// (synthetic models) under the Supervisor, espeak-ng, Silero (WebRTC VAD as the fallback).
import type { Config } from "../../infra/config.ts";
import { engineSpecs } from "../../infra/engines/specs.ts";
import { silentLogger } from "../../infra/log.ts";
import { Supervisor } from "../../infra/supervisor.ts";
import { createLlm } from "../../pipeline/engines/llm.ts";
import { createStt } from "../../pipeline/engines/stt.ts";
import { createTts } from "../../pipeline/engines/tts.ts";
import { openVad, type VadProvider } from "../../pipeline/engines/vad.ts";
import type { LlmEngine, SttEngine, TtsEngine } from "../../pipeline/engines/types.ts";
import { LLAMA_MISSING, testConfig, WHISPER_MISSING } from "../infra/fixtures/engines.ts";

/** Why the real engines cannot be used, or undefined. */
export const ENGINES_MISSING: string | undefined = WHISPER_MISSING ?? LLAMA_MISSING ??
  (await hasEspeak() ? undefined : "espeak-ng not installed");

async function hasEspeak(): Promise<boolean> {
  try {
    const r = await new Deno.Command("espeak-ng", { args: ["--version"], stdout: "null", stderr: "null" })
      .output();
    return r.success;
  } catch {
    return false;
  }
}

/** Running engines. */
export interface Engines {
  config: Config;
  supervisor: Supervisor;
  stt: SttEngine;
  llm: LlmEngine;
  tts: TtsEngine;
  vad: VadProvider;
  close(): Promise<void>;
}

/** Start whisper-server and llama-server under a Supervisor and open the adapters. */
export async function startEngines(
  env: Record<string, string> = {},
  opts: { sttTimeoutMs?: number } = {},
): Promise<Engines> {
  const config = testConfig(env);
  const specs = engineSpecs(config).filter((s) => s.name === "stt" || s.name === "llm");
  const supervisor = new Supervisor(specs, { log: silentLogger });
  await supervisor.start();
  const stt = createStt(config, { timeoutMs: opts.sttTimeoutMs });
  const llm = createLlm(config);
  const tts = await createTts(config.tts);
  if (!stt || !llm || !tts) {
    throw new Error("Cannot start the engines: one of stt, llm, tts is configured as none");
  }
  const vad = await openVad(config.vad, { fallback: true });
  return {
    config,
    supervisor,
    stt,
    llm,
    tts,
    vad,
    async close() {
      await tts.close?.();
      await vad.dispose();
      await supervisor.stop();
    },
  };
}
