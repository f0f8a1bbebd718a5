/**
 * Health checks of the configured engines, each bounded by a timeout: HTTP engines are asked over their
 * documented health endpoints, CLI engines are run once, file engines are looked for on disk.
 * Used by `GET /readyz`, the {@linkcode Supervisor} and `tom doctor`.
 *
 * @module
 */
import { displayUrl, type EngineKind, type EngineName, type EngineSpec } from "./specs.ts";
import { filePresent, findBinary } from "./files.ts";

/** Default time one check may take, in milliseconds (a healthy local engine answers in a few ms). */
export const DEFAULT_HEALTH_TIMEOUT_MS = 2000;

/** The result of one check. */
export interface EngineHealth {
  name: EngineName;
  kind: EngineKind;
  managed: boolean;
  /** Base URL of an HTTP engine (credentials removed). */
  url?: string;
  ok: boolean;
  /** Why it is not ok, readable by a person ("connection refused at http://127.0.0.1:8178"). */
  reason?: string;
  /** Version or served model, when the engine tells. */
  detail?: string;
  latencyMs: number;
  /** HTTP engines: whether anything answered on the port (false: nothing is listening, or no answer). */
  reachable?: boolean;
  binaryFound?: boolean;
  modelPresent?: boolean;
  /** Works, but not as configured: Piper cannot speak and espeak-ng does (German, for staff). */
  degraded?: string;
}

/** The fallback voice's note for staff: what failed in Piper, and that espeak-ng speaks instead. */
export function ttsFallbackReason(why: string): string {
  return `Piper nicht nutzbar (${why}); es spricht die Ersatzstimme espeak-ng`;
}

/** Options of {@linkcode checkEngine}. */
export interface CheckOptions {
  signal?: AbortSignal;
  /** Milliseconds (default {@linkcode DEFAULT_HEALTH_TIMEOUT_MS}). */
  timeoutMs?: number;
}

interface Probe {
  ok: boolean;
  reason?: string;
  detail?: string;
  reachable?: boolean;
  degraded?: string;
}

class Deadline {
  readonly #ac = new AbortController();
  readonly #timer: ReturnType<typeof setTimeout>;
  readonly #outer?: AbortSignal;
  readonly #onAbort = () => this.#ac.abort(this.#outer?.reason);
  timedOut = false;

  constructor(readonly ms: number, outer?: AbortSignal) {
    this.#outer = outer;
    this.#timer = setTimeout(() => {
      this.timedOut = true;
      this.#ac.abort(new DOMException(`Timed out after ${ms} ms`, "TimeoutError"));
    }, ms);
    if (outer?.aborted) this.#onAbort();
    else outer?.addEventListener("abort", this.#onAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.#ac.signal;
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#outer?.removeEventListener("abort", this.#onAbort);
  }
}

function networkReason(e: unknown, raw: string, shownAs: string, dl: Deadline): string {
  const shown = displayUrl(shownAs);
  if (dl.timedOut) return `no answer within ${dl.ms} ms at ${shown}`;
  if (dl.signal.aborted) return `check aborted at ${shown}`;
  const text = `${e instanceof Error ? e.message : String(e)} ${
    e instanceof Error && e.cause ? String(e.cause) : ""
  }`;
  if (/connection refused/i.test(text)) return `connection refused at ${shown}`;
  if (/connection reset|closed before|incomplete message/i.test(text)) return `connection reset at ${shown}`;
  const short = (e instanceof Error && e.cause instanceof Error ? e.cause.message : text).split(raw).join(
    shown,
  );
  return `cannot reach ${shown}: ${short.trim()}`;
}

type Got = { status: number; body: string } | { error: string };

/** GET `url`; a network failure names `shownAs` (the engine's base URL, as configured). */
async function get(url: string, dl: Deadline, shownAs = url): Promise<Got> {
  try {
    const res = await fetch(url, { signal: dl.signal, headers: { accept: "application/json" } });
    return { status: res.status, body: await res.text() };
  } catch (e) {
    return { error: networkReason(e, url, shownAs, dl) };
  }
}

function json(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

function statusReason(got: { status: number; body: string }, url: string): string {
  if (got.status === 503 && /loading/i.test(got.body)) return `loading model at ${displayUrl(url)}`;
  return `HTTP ${got.status} from ${displayUrl(url)}`;
}

/** whisper-server and llama-server: `GET /health` is 200 `{"status":"ok"}` when ready, 503 while loading. */
async function probeHealthEndpoint(spec: EngineSpec, dl: Deadline): Promise<Probe> {
  const url = spec.healthUrl ?? `${spec.url}/health`;
  const got = await get(url, dl, spec.url);
  if ("error" in got) return { ok: false, reason: got.error, reachable: false };
  if (got.status === 200) return { ok: true, reachable: true };
  return { ok: false, reason: statusReason(got, url), reachable: true };
}

function hasOllamaModel(names: string[], want: string): boolean {
  const full = want.includes(":") ? want : `${want}:latest`;
  return names.some((n) => n === want || n === full);
}

/** Ollama: `GET /api/version` then `GET /api/tags`; the configured model must be pulled. */
async function probeOllama(spec: EngineSpec, dl: Deadline): Promise<Probe> {
  const version = await get(`${spec.url}/api/version`, dl, spec.url);
  if ("error" in version) return { ok: false, reason: version.error, reachable: false };
  if (version.status !== 200) return { ok: false, reason: statusReason(version, `${spec.url}/api/version`) };
  const v = (json(version.body) as { version?: unknown } | undefined)?.version;
  const detail = typeof v === "string" ? `Ollama ${v}` : "Ollama";
  const tagsUrl = `${spec.url}/api/tags`;
  const tags = await get(tagsUrl, dl, spec.url);
  if ("error" in tags) return { ok: false, reason: tags.error, reachable: true, detail };
  if (tags.status !== 200) return { ok: false, reason: statusReason(tags, tagsUrl), reachable: true, detail };
  const models = (json(tags.body) as { models?: Array<{ name?: unknown; model?: unknown }> } | undefined)
    ?.models;
  if (!Array.isArray(models)) {
    return { ok: false, reason: `unexpected answer from ${displayUrl(tagsUrl)}`, reachable: true, detail };
  }
  const names = models.flatMap((m) => [m.name, m.model]).filter((n): n is string => typeof n === "string");
  if (spec.modelName && !hasOllamaModel(names, spec.modelName)) {
    return {
      ok: false,
      reason: `model "${spec.modelName}" is not pulled in Ollama at ${displayUrl(spec.url ?? "")} ` +
        `(run: ollama pull ${spec.modelName})`,
      reachable: true,
      detail,
    };
  }
  return {
    ok: true,
    reachable: true,
    detail: spec.modelName ? `${detail}, model ${spec.modelName}` : detail,
  };
}

/** OpenAI-compatible servers: `GET /v1/models` lists the served model ids. */
async function probeOpenAi(spec: EngineSpec, dl: Deadline): Promise<Probe> {
  const url = spec.healthUrl ?? `${spec.url}/v1/models`;
  const got = await get(url, dl, spec.url);
  if ("error" in got) return { ok: false, reason: got.error, reachable: false };
  if (got.status !== 200) return { ok: false, reason: statusReason(got, url), reachable: true };
  const data = (json(got.body) as { data?: Array<{ id?: unknown }> } | undefined)?.data;
  const ids = Array.isArray(data)
    ? data.map((d) => d.id).filter((i): i is string => typeof i === "string")
    : [];
  if (spec.modelName && ids.length > 0 && !ids.includes(spec.modelName)) {
    return {
      ok: false,
      reason: `model "${spec.modelName}" is not served at ${displayUrl(url)} (serves: ${ids.join(", ")})`,
      reachable: true,
    };
  }
  return { ok: true, reachable: true, detail: ids.length > 0 ? `serves ${ids.join(", ")}` : undefined };
}

/** espeak-ng: the binary runs and the configured voice exists (`espeak-ng -v VOICE -q test` exits 0). */
async function probeEspeak(spec: EngineSpec, bin: string, dl: Deadline): Promise<Probe> {
  const voice = spec.voice ?? "de";
  try {
    const out = await new Deno.Command(bin, {
      args: ["-v", voice, "-q", "test"],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      signal: dl.signal,
    }).output();
    if (out.success) return { ok: true, detail: `voice ${voice}` };
    if (dl.timedOut) return { ok: false, reason: `espeak-ng did not finish within ${dl.ms} ms` };
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").at(-1) ?? "";
    return {
      ok: false,
      reason: `espeak-ng voice "${voice}" is not usable (exit ${out.code}${err ? `: ${err}` : ""})`,
    };
  } catch (e) {
    return { ok: false, reason: `espeak-ng failed to run: ${e instanceof Error ? e.message : String(e)}` };
  }
}

async function probe(spec: EngineSpec, dl: Deadline, facts: Partial<EngineHealth>): Promise<Probe> {
  const missing: string[] = [];
  if (facts.binaryFound === false) missing.push(`binary not found: ${spec.bin}`);
  if (facts.modelPresent === false) missing.push(`model file missing: ${spec.model || "(not configured)"}`);
  const withFiles = (p: Probe): Probe => {
    const reasons = [p.reason, ...missing].filter((r): r is string => !!r);
    return { ...p, reason: reasons.length > 0 ? reasons.join("; ") : undefined };
  };
  switch (spec.kind) {
    case "whisper-server":
    case "llama-server":
      return withFiles(await probeHealthEndpoint(spec, dl));
    case "ollama":
      return await probeOllama(spec, dl);
    case "openai":
      return await probeOpenAi(spec, dl);
    case "espeak-ng":
      if (!facts.binaryFound) return withFiles({ ok: false });
      return await probeEspeak(spec, (await findBinary(spec.bin ?? "espeak-ng")) ?? "espeak-ng", dl);
    case "piper": {
      const voiceConfig = spec.model ? `${spec.model}.json` : undefined;
      if (facts.modelPresent && !(await filePresent(voiceConfig))) {
        missing.push(`voice config missing: ${voiceConfig}`);
      }
      if (missing.length === 0) return { ok: true };
      // TOM speaks with espeak-ng instead (pipeline/engines/tts_fallback.ts): degraded, not down.
      const fallback = await probeEspeak(
        { ...spec, voice: "de" },
        (await findBinary("espeak-ng")) ?? "espeak-ng",
        dl,
      );
      if (!fallback.ok) return withFiles(fallback);
      const degraded = ttsFallbackReason(missing.join("; "));
      return { ok: true, degraded, detail: degraded };
    }
    case "silero":
      return withFiles({ ok: missing.length === 0 });
  }
}

/** Which file facts a spec has: managed engines and local engines need their binary and model on disk. */
async function fileFacts(spec: EngineSpec): Promise<Partial<EngineHealth>> {
  const facts: Partial<EngineHealth> = {};
  const needsBinary = spec.managed || spec.kind === "espeak-ng" || spec.kind === "piper";
  const needsModel = spec.managed || spec.kind === "piper" || spec.kind === "silero";
  if (needsBinary) facts.binaryFound = (await findBinary(spec.bin ?? "")) !== undefined;
  if (needsModel) facts.modelPresent = await filePresent(spec.model);
  return facts;
}

/**
 * Check one engine, within a timeout.
 *
 * @param spec The engine, from `engineSpecs(config)`.
 * @returns Its health; never throws (a failure is `ok: false` with a reason).
 */
export async function checkEngine(spec: EngineSpec, opts: CheckOptions = {}): Promise<EngineHealth> {
  const started = performance.now();
  const dl = new Deadline(opts.timeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS, opts.signal);
  try {
    const facts = await fileFacts(spec);
    const p = await probe(spec, dl, facts);
    const health: EngineHealth = {
      name: spec.name,
      kind: spec.kind,
      managed: spec.managed,
      ok: p.ok,
      latencyMs: 0,
    };
    if (spec.url) health.url = displayUrl(spec.url);
    if (p.reason) health.reason = p.reason;
    if (p.detail) health.detail = p.detail;
    if (p.reachable !== undefined) health.reachable = p.reachable;
    if (p.degraded) health.degraded = p.degraded;
    Object.assign(health, facts);
    health.latencyMs = Math.round((performance.now() - started) * 10) / 10;
    return health;
  } finally {
    dl.dispose();
  }
}

/**
 * Check several engines in parallel, each within its own timeout.
 *
 * @returns One result per spec, in the same order.
 */
export function checkEngines(specs: readonly EngineSpec[], opts: CheckOptions = {}): Promise<EngineHealth[]> {
  return Promise.all(specs.map((s) => checkEngine(s, opts)));
}
