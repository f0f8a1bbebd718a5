/**
 * What each configured engine is, where it lives, how it is checked and, for the engines TOM starts itself
 * (whisper-server, llama-server), the exact command line. Pure: reads nothing from disk.
 *
 * @module
 */
import type { Config } from "../config.ts";

/** The role an engine plays in a call. */
export type EngineName = "stt" | "llm" | "tts" | "vad";

/** Which program or service fills the role. */
export type EngineKind =
  | "whisper-server"
  | "llama-server"
  | "ollama"
  | "openai"
  | "espeak-ng"
  | "piper"
  | "silero";

/** One configured engine. */
export interface EngineSpec {
  readonly name: EngineName;
  readonly kind: EngineKind;
  /** True when TOM starts and supervises the process (whisper-server, llama-server with `manageEngines`). */
  readonly managed: boolean;
  /** Base URL of an HTTP engine, without a trailing slash. */
  readonly url?: string;
  /** URL probed for health (HTTP engines only). */
  readonly healthUrl?: string;
  /** Binary: an absolute path, or a command name looked up on PATH. */
  readonly bin?: string;
  /** Model or voice file the engine needs. */
  readonly model?: string;
  /** Voice name (espeak-ng). */
  readonly voice?: string;
  /** Model name that must be served (Ollama tag, OpenAI-compatible model id). */
  readonly modelName?: string;
  /** Managed engines: the program to run. */
  readonly command?: string;
  /** Managed engines: its arguments. */
  readonly args?: readonly string[];
  /** Managed engines: the loopback address it binds. */
  readonly host?: string;
  /** Managed engines: the port it binds. */
  readonly port?: number;
}

/** A configuration that cannot be turned into engine specs (for example a managed engine on a public address). */
export class EngineSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EngineSpecError";
  }
}

const LOOPBACK_NAMES = new Set(["localhost", "::1", "[::1]"]);

/** True when a URL host (as `URL.hostname` spells it) is a loopback address. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return LOOPBACK_NAMES.has(h) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** A URL with any user name and password removed, safe to print. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.href.replace(/\/$/, "");
  } catch {
    return url;
  }
}

function baseUrl(url: string): string {
  return url.replace(/\/+$/, "");
}

/** Host, port and base URL of an engine TOM starts; refuses anything but plain HTTP on loopback. */
function managedAddress(key: string, url: string): { host: string; port: number; base: string } {
  const u = new URL(url);
  if (!isLoopbackHost(u.hostname)) {
    throw new EngineSpecError(
      `Cannot manage engine ${key}: ${displayUrl(url)} is not a loopback address; an engine TOM starts ` +
        `binds 127.0.0.1 only (use http://127.0.0.1:PORT, or set TOM_MANAGE_ENGINES=false for a remote engine)`,
    );
  }
  if (u.protocol !== "http:") {
    throw new EngineSpecError(`Cannot manage engine ${key}: ${displayUrl(url)} must use http:// on loopback`);
  }
  if (u.pathname !== "/" || u.search !== "") {
    throw new EngineSpecError(`Cannot manage engine ${key}: ${displayUrl(url)} must not have a path`);
  }
  const host = u.hostname === "localhost" ? "127.0.0.1" : u.hostname.replace(/^\[|\]$/g, "");
  const port = u.port === "" ? 80 : Number(u.port);
  return { host, port, base: `http://${u.hostname}:${port}` };
}

function sttSpec(config: Config): EngineSpec | undefined {
  const stt = config.stt;
  if (stt.kind === "none") return undefined;
  if (!config.manageEngines) {
    const url = baseUrl(stt.url);
    return { name: "stt", kind: stt.kind, managed: false, url, healthUrl: `${url}/health` };
  }
  const { host, port, base } = managedAddress("stt (TOM_STT_URL)", stt.url);
  return {
    name: "stt",
    kind: stt.kind,
    managed: true,
    url: base,
    healthUrl: `${base}/health`,
    bin: stt.bin,
    model: stt.model,
    command: stt.bin,
    args: [
      ...["-m", stt.model, "--host", host, "--port", String(port)],
      ...["-l", stt.language, "-t", String(stt.threads)],
    ],
    host,
    port,
  };
}

function llmSpec(config: Config): EngineSpec | undefined {
  const llm = config.llm;
  switch (llm.kind) {
    case "none":
      return undefined;
    case "ollama": {
      const url = baseUrl(llm.url);
      return {
        name: "llm",
        kind: "ollama",
        managed: false,
        url,
        healthUrl: `${url}/api/tags`,
        modelName: llm.modelName,
      };
    }
    case "openai": {
      const url = baseUrl(llm.url);
      const healthUrl = /\/v1$/.test(url) ? `${url}/models` : `${url}/v1/models`;
      return { name: "llm", kind: "openai", managed: false, url, healthUrl, modelName: llm.modelName };
    }
    case "llama-server": {
      if (!config.manageEngines) {
        const url = baseUrl(llm.url);
        return { name: "llm", kind: "llama-server", managed: false, url, healthUrl: `${url}/health` };
      }
      const { host, port, base } = managedAddress("llm (TOM_LLM_URL)", llm.url);
      return {
        name: "llm",
        kind: "llama-server",
        managed: true,
        url: base,
        healthUrl: `${base}/health`,
        bin: llm.bin,
        model: llm.model,
        modelName: llm.modelName,
        command: llm.bin,
        args: [
          ...["-m", llm.model, "--host", host, "--port", String(port)],
          ...["-t", String(llm.threads), "-c", String(llm.contextSize), "--alias", llm.modelName],
          // The model's Jinja chat template renders `tools` and parses tool calls (the default in
          // current builds; explicit for older ones).
          "--jinja",
        ],
        host,
        port,
      };
    }
  }
}

function ttsSpec(config: Config): EngineSpec | undefined {
  const tts = config.tts;
  switch (tts.kind) {
    case "none":
      return undefined;
    case "espeak-ng":
      return { name: "tts", kind: "espeak-ng", managed: false, bin: tts.bin, voice: tts.voice };
    case "piper":
      return { name: "tts", kind: "piper", managed: false, bin: tts.bin, model: tts.model };
  }
}

/**
 * Describe every configured engine (kinds `none` are left out).
 *
 * @param config A loaded configuration (paths resolved).
 * @returns One spec per engine, in the order stt, llm, tts, vad.
 * @throws {EngineSpecError} when a managed engine's URL is not plain HTTP on a loopback address.
 */
export function engineSpecs(config: Config): EngineSpec[] {
  const vad: EngineSpec = { name: "vad", kind: "silero", managed: false, model: config.vad.model };
  return [sttSpec(config), llmSpec(config), ttsSpec(config), vad].filter((s): s is EngineSpec =>
    s !== undefined
  );
}
