/**
 * What each configured engine is, where it lives, how it is checked and, for the engines TOM starts itself
 * (whisper-server, llama-server), the exact command line. Pure: reads nothing from disk.
 *
 * @module
 */
import type { Config } from "../config.ts";
import { enginePaths } from "./catalog.ts";
import { sttPoolUrls } from "./pool.ts";

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
  /** The member of a pool (`stt#2`, for logs and status); absent for the first or only process. */
  readonly label?: string;
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

/**
 * How a managed engine is started: the provisioned whisper-server and llama-server through
 * tom-engine-guard (engine_guard.c: only the options built here, no download or program-starting options,
 * none of the engines' own option variables), so `tom serve` needs no right to run the servers themselves.
 * An engine binary elsewhere (`TOM_STT_BIN`, `TOM_LLM_BIN`) is started as it is.
 */
export function managedCommand(
  config: Pick<Config, "enginesDir">,
  bin: string,
  name: "whisper-server" | "llama-server",
  args: string[],
): { command: string; args: string[] } {
  const p = enginePaths(config.enginesDir);
  const provisioned = name === "llama-server" ? p.llamaServer : p.whisperServer;
  return bin === provisioned ? { command: p.engineGuard, args: [name, ...args] } : { command: bin, args };
}

/** One spec per STT pool member (infra/engines/pool.ts), each on its own loopback port. */
function sttSpecs(config: Config): EngineSpec[] {
  if (config.stt.kind === "none") return [];
  const urls = sttPoolUrls(config);
  const taken = new Map<string, string>([[new URL(config.llm.url).port, "llm.url"], [
    String(config.http.port),
    "http.port",
  ]]);
  for (const u of urls.slice(1)) {
    const clash = taken.get(new URL(u).port);
    if (clash && config.manageEngines) {
      throw new EngineSpecError(
        `Cannot start the STT pool: member ${displayUrl(u)} would take the port of ${clash}; ` +
          `set TOM_STT_POOL_PORT to a free range of ${urls.length - 1} ports`,
      );
    }
  }
  return urls.map((url, i) => sttSpec(config, url, i));
}

function sttSpec(config: Config, memberUrl: string, member: number): EngineSpec {
  const stt = { ...config.stt, kind: "whisper-server" as const };
  const label = member === 0 ? {} : { label: `stt#${member + 1}` };
  if (!config.manageEngines) {
    const url = baseUrl(memberUrl);
    return { name: "stt", ...label, kind: stt.kind, managed: false, url, healthUrl: `${url}/health` };
  }
  const key = member === 0 ? "stt (TOM_STT_URL)" : `stt pool member ${member + 1} (TOM_STT_POOL_PORT)`;
  const { host, port, base } = managedAddress(key, memberUrl);
  return {
    name: "stt",
    ...label,
    kind: stt.kind,
    managed: true,
    url: base,
    healthUrl: `${base}/health`,
    bin: stt.bin,
    model: stt.model,
    ...managedCommand(config, stt.bin, "whisper-server", [
      ...["-m", stt.model, "--host", host, "--port", String(port)],
      ...["-l", stt.language, "-t", String(stt.threads)],
      // A CUDA/Vulkan build uses the GPU unless told not to.
      ...(config.stt.gpu === false ? ["-ng"] : []),
    ]),
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
      const slots = Math.max(1, llm.parallel);
      return {
        name: "llm",
        kind: "llama-server",
        managed: true,
        url: base,
        healthUrl: `${base}/health`,
        bin: llm.bin,
        model: llm.model,
        modelName: llm.modelName,
        ...managedCommand(config, llm.bin, "llama-server", [
          ...["-m", llm.model, "--host", host, "--port", String(port)],
          ...["-t", String(llm.threads), "-c", String(llm.contextSize * slots), "--alias", llm.modelName],
          // One slot per call the STT pool serves at once; `-c` is shared out among the slots.
          ...(slots > 1 ? ["--parallel", String(slots)] : []),
          ...gpuLayerArgs(config),
          // The model's Jinja chat template renders `tools` and parses tool calls (the default in
          // current builds; explicit for older ones).
          "--jinja",
        ]),
        host,
        port,
      };
    }
  }
}

/**
 * llama-server's `-ngl`: as configured; `tom serve` replaces `auto` on the GPU profiles by what fits the
 * free VRAM (infra/engines/gpu_layers.ts); an `auto` left here is every layer on the GPU profiles and
 * llama.cpp's own default on cpu-dev, whose command line stays as it always was.
 */
export function gpuLayerArgs(config: Pick<Config, "profile"> & { llm: { gpuLayers?: string } }): string[] {
  const layers = config.llm.gpuLayers ?? "auto";
  // `-lv 4`: llama.cpp's load messages (offloaded layers, buffer sizes) reach the log `tom doctor` reads.
  if (layers !== "auto") return ["-ngl", layers, "-lv", "4"];
  return config.profile === "cpu-dev" ? [] : ["-ngl", "all", "-lv", "4"];
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
 * @returns One spec per engine (one per STT pool member), in the order stt, llm, tts, vad.
 * @throws {EngineSpecError} when a managed engine's URL is not plain HTTP on a loopback address.
 */
export function engineSpecs(config: Config): EngineSpec[] {
  const vad: EngineSpec = { name: "vad", kind: "silero", managed: false, model: config.vad.model };
  return [...sttSpecs(config), llmSpec(config), ttsSpec(config), vad].filter((s): s is EngineSpec =>
    s !== undefined
  );
}
