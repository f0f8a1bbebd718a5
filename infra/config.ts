/**
 * TOM's configuration: one zod schema with a default for every key, filled from an optional JSON file
 * (`TOM_CONFIG` or `--config`) and then from `TOM_*` environment variables (which win).
 *
 * Environment names derive from the key path: `http.port` is `TOM_HTTP_PORT`, `llm.model` is
 * `TOM_LLM_MODEL`, `dataDir` is `TOM_DATA_DIR`. Lists are comma separated.
 *
 * @module
 */
import { z } from "zod";
import { join, resolve } from "node:path";
import { homedir } from "node:os";
import { type Bounds, commonBounds, PIPELINE_BOUNDS as PB, scaledBounds } from "./pipeline_bounds.ts";
import { type ModelSelection, piperRuntimeBin, readModelSelection } from "./engines/model_selection.ts";

const bool = () =>
  z.preprocess((v) => {
    if (typeof v !== "string") return v;
    const s = v.trim().toLowerCase();
    if (["1", "true", "yes", "on"].includes(s)) return true;
    if (["0", "false", "no", "off", ""].includes(s)) return false;
    return v;
  }, z.boolean());
const int = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === "string" && v.trim() !== "" ? Number(v) : v),
    z.number().int().min(min).max(max),
  );
const intIn = (b: Bounds) => int(b.min, b.max);
const num = (min: number, max: number) =>
  z.preprocess(
    (v) => (typeof v === "string" && v.trim() !== "" ? Number(v) : v),
    z.number().min(min).max(max),
  );
const list = <T extends z.ZodType>(item: T) =>
  z.preprocess(
    (v) => (typeof v === "string" ? v.split(",").map((s) => s.trim()).filter((s) => s !== "") : v),
    z.array(item),
  );
const port = () => int(1, 65535);
const host = () => z.string().min(1).regex(/^[A-Za-z0-9.:\-\[\]]+$/, "expected a host name or IP address");
const url = () =>
  z.string().refine((s) => {
    try {
      const u = new URL(s);
      return u.protocol === "http:" || u.protocol === "https:";
    } catch {
      return false;
    }
  }, "expected an http(s) URL such as http://127.0.0.1:8178");

/** A plain e-mail address (the relay checks it for real). */
const MAIL_ADDRESS = /^[^\s@<>,"]+@[^\s@<>,"]+$/;

/** Where downloaded or built engines and models are cached unless `TOM_ENGINES_DIR` says otherwise. */
export function defaultEnginesDir(env: (k: string) => string | undefined = envGet): string {
  const xdg = env("XDG_CACHE_HOME");
  return join(xdg && xdg !== "" ? xdg : join(env("HOME") ?? homedir(), ".cache"), "tom", "engines");
}

function envGet(k: string): string | undefined {
  try {
    return Deno.env.get(k);
  } catch {
    return undefined;
  }
}

/** Keys whose values are secret: never printed, never echoed in error messages. */
export const SECRET_KEYS: ReadonlySet<string> = new Set([
  "jwt.secret",
  "log.hashSalt",
  "freeswitch.eslPassword",
  "twilio.authToken",
  "mail.password",
  "asterisk.amiSecret",
]);

/** The configuration schema. Every key has a default so an empty environment is a valid configuration. */
export const ConfigSchema = z.object({
  /** Hardware profile whose gate `tom doctor` checks. */
  profile: z.enum(["realtime", "single-agent", "cpu-dev"]).default("cpu-dev"),
  http: z.object({
    host: host().default("127.0.0.1"),
    port: port().default(8080),
    /** Seconds a client may take to send a request's headers; then 408 and the connection is closed. */
    headersTimeoutSeconds: int(1, 600).default(10),
    /** Seconds a client may take to send a whole request (headers and body). */
    requestTimeoutSeconds: int(1, 3600).default(30),
    /** Seconds an idle keep-alive connection stays open. */
    keepAliveTimeoutSeconds: int(1, 600).default(5),
  }).prefault({}),
  audiosocket: z.object({
    host: host().default("127.0.0.1"),
    port: port().default(9092),
  }).prefault({}),
  /** Asterisk Manager Interface, for cold transfers (`Redirect`) of AudioSocket and chan_websocket calls. */
  asterisk: z.object({
    /** Connect to AMI and offer transfers on Asterisk calls (manager.conf: infra/deploy/asterisk). */
    amiEnabled: bool().default(false),
    /** Loopback only: AMI is plain text with a password, never for another host. */
    amiHost: host().refine((h) => /^(127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost)$/.test(h), {
      message: "AMI must be on loopback (127.0.0.1, ::1 or localhost)",
    }).default("127.0.0.1"),
    amiPort: port().default(5038),
    amiUser: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "expected a manager.conf user name").default("tom"),
    /** The manager.conf user's secret (secret: `TOM_ASTERISK_AMI_SECRET`, never printed). */
    amiSecret: z.string().max(256).regex(/^[^\r\n]*$/, "expected one line").default(""),
    /** Dialplan context the caller is redirected to; the target is its extension. */
    transferContext: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "expected a context name").default(
      "tom-transfer",
    ),
    /**
     * Warm transfer: TOM calls the target first (AMI Originate of `<target>@transferContext`), tells the person
     * who calls and why, then bridges; nobody answers within `warmRingSeconds`: the caller stays with TOM.
     */
    warmTransfer: bool().default(false),
    /** The context the answered staff leg runs (shipped: `tom-warm`). */
    warmContext: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "expected a context name").default("tom-warm"),
    /** Seconds the target rings; with the briefing it stays within TOM's 30 s bound of a transfer. */
    warmRingSeconds: int(5, 20).default(15),
  }).refine((a) => !a.amiEnabled || a.amiSecret !== "", {
    message: "asterisk.amiEnabled needs the manager user's secret in TOM_ASTERISK_AMI_SECRET",
    path: ["amiSecret"],
  }).prefault({}),
  /** Database, secrets, recordings. */
  dataDir: z.string().min(1).default("data"),
  /**
   * Most concurrent calls TOM takes (`TOM_MAX_CALLS`; 0: no limit). Beyond it every telephony transport
   * refuses the call the way its peer reads as "not taken", so the PBX's dialplan hands it to a person
   * (infra/deploy/asterisk, infra/deploy/freeswitch) instead of TOM taking a call it would answer badly.
   * A warm transfer's briefing leg belongs to a call TOM holds and is not refused.
   */
  maxCalls: int(0, 10_000).default(0),
  /** Cache of built engines and models (outside the repository). */
  enginesDir: z.string().min(1).default(""),
  /** The answering stage: the conversation `pipeline`, or the diagnostic `echo` (greeting tone, then echo). */
  answer: z.enum(["pipeline", "echo"]).default("pipeline"),
  /** Start managed engines as child processes (false: only check them). */
  manageEngines: bool().default(true),
  /** Real models (`tom models`, infra/engines/models_catalog.ts). */
  models: z.object({
    /** A catalogue file of the practice's own (same schema), merged over the built-in one. */
    catalog: z.string().default(""),
    /** A base URL on the practice's network or a directory (USB disk) that replaces every source. */
    mirror: z.string().default(""),
    /** `deno task start` pulls the profile's default models when the sources are reachable. */
    autoPull: bool().default(true),
  }).prefault({}),
  stt: z.object({
    kind: z.enum(["whisper-server", "none"]).default("whisper-server"),
    url: url().default("http://127.0.0.1:8178"),
    /** Empty: `<enginesDir>/bin/whisper-server`. */
    bin: z.string().default(""),
    cliBin: z.string().default(""),
    /** Empty: the provisioned synthetic model. */
    model: z.string().default(""),
    language: z.string().min(2).max(8).default("de"),
    threads: int(1, 256).default(2),
    /**
     * whisper-server processes behind the shared fair queue (`TOM_STT_POOL_SIZE`; 0: sized from the box,
     * infra/engines/pool.ts). The first serves on `url`, the others on `poolPort`, `poolPort + 1`, ...
     * (`poolPort` 0: `url`'s port + 100, + 200, ...).
     */
    poolSize: int(0, 64).default(0),
    poolPort: int(0, 65535).default(0),
    /** whisper-server uses the GPU when it was built for one (`TOM_STT_GPU=false`: `-ng`, CPU only). */
    gpu: bool().default(true),
  }).prefault({}),
  llm: z.object({
    kind: z.enum(["llama-server", "ollama", "openai", "none"]).default("llama-server"),
    url: url().default("http://127.0.0.1:8179"),
    bin: z.string().default(""),
    model: z.string().default(""),
    /** Model name sent in requests (Ollama: the tag, e.g. `llama3.1:8b`). */
    modelName: z.string().default("tom"),
    threads: int(1, 256).default(2),
    contextSize: int(256, 1_048_576).default(4096),
    /**
     * llama-server's parallel slots (`--parallel`, `TOM_LLM_PARALLEL`; 0: as many as STT pool members).
     * Each slot keeps `contextSize`: the server is started with `-c contextSize * parallel`.
     */
    parallel: int(0, 64).default(0),
    /**
     * Layers llama-server keeps on the GPU (`-ngl`, `TOM_LLM_GPU_LAYERS`): `auto` (default: on the GPU
     * profiles every layer when the LLM fits the free VRAM next to the STT pool, else as many as fit,
     * infra/engines/gpu_layers.ts; llama.cpp's own choice on cpu-dev), `all`, or a number (0: CPU only).
     */
    gpuLayers: z.string().regex(/^(auto|all|\d{1,3})$/, "expected auto, all or a number of layers")
      .default("auto"),
  }).prefault({}),
  tts: z.object({
    kind: z.enum(["espeak-ng", "piper", "none"]).default("espeak-ng"),
    bin: z.string().default("espeak-ng"),
    voice: z.string().min(1).default("de"),
    /** Piper voice model (.onnx); unused by espeak-ng. */
    model: z.string().default(""),
  }).prefault({}),
  vad: z.object({
    /** Empty: the provisioned Silero model. */
    model: z.string().default(""),
    threshold: num(PB.vadThreshold.min, PB.vadThreshold.max).default(0.5),
  }).prefault({}),
  jwt: z.object({
    /** HS256 secret (at least 32 bytes). Empty: generated once into `<dataDir>/secrets/jwt.key`. */
    secret: z.string().refine((s) => s === "" || new TextEncoder().encode(s).length >= 32, {
      message: "must be at least 32 bytes long",
    }).default(""),
    /** PEM public key file for RS256/ES256/EdDSA tokens. */
    publicKeyFile: z.string().default(""),
    algorithms: list(z.enum(["HS256", "RS256", "ES256", "EdDSA"])).refine((a) => a.length > 0, {
      message: "must name at least one algorithm",
    }).default(["HS256"]),
    maxTtlSeconds: int(1, 3600).default(3600),
  }).prefault({}),
  egress: z.object({
    /** Extra hosts (`host` or `host:port`) the server may reach besides loopback and the engines. */
    allowHosts: list(host()).default([]),
    /** Lift the network sandbox completely. */
    allowAll: bool().default(false),
  }).prefault({}),
  telemetry: z.object({
    /**
     * OTLP/HTTP collector base URL, e.g. http://127.0.0.1:4318 (spans are POSTed to `<url>/v1/traces`).
     * Empty: no traces leave TOM. A host other than loopback must be allowed by `egress`, else `tom serve`
     * refuses to start.
     */
    otlpEndpoint: z.string().refine((s) => {
      if (s === "") return true;
      try {
        const u = new URL(s);
        return (u.protocol === "http:" || u.protocol === "https:") && u.search === "" && u.hash === "" &&
          u.username === "" && u.password === "";
      } catch {
        return false;
      }
    }, "expected empty (off) or an http(s) URL without credentials such as http://127.0.0.1:4318").default(
      "",
    ),
  }).prefault({}),
  /**
   * The optional e-mail notice of a new request (app/request_mail.ts). It says only that something new is
   * waiting and links to it: no name, no number, no health data. Off while `smtpHost` is empty; when set,
   * the relay's `host:port` is added to the egress sandbox (infra/permissions.ts) and nothing else.
   */
  mail: z.object({
    /** SMTP relay host name or IP address. Empty: no e-mail. */
    smtpHost: z.union([z.literal(""), host()]).default(""),
    /** 587 (submission, STARTTLS), 465 (implicit TLS) or 25 (a relay in the practice's network). */
    smtpPort: port().default(587),
    /** `starttls` (required, the default), `tls` (implicit TLS, port 465), or `none` (plain text: a trusted relay only). */
    security: z.enum(["starttls", "tls", "none"]).default("starttls"),
    /** Relay login; empty: no authentication. */
    user: z.string().default(""),
    /** Relay password (secret: `TOM_MAIL_PASSWORD`, never printed). */
    password: z.string().default(""),
    from: z.string().regex(MAIL_ADDRESS, "expected an e-mail address like tom@praxis.example").default(
      "tom@localhost",
    ),
    /** Recipients (comma separated); required when `smtpHost` is set. */
    to: list(z.string()).refine((a) => a.every((s) => MAIL_ADDRESS.test(s)), {
      message: "expected comma-separated e-mail addresses like team@praxis.example",
    }).default([]),
    /** Base URL staff open TOM at, for the link (e.g. https://tom.praxis.example); empty: `http://<http.host>:<http.port>`. */
    publicUrl: z.union([z.literal(""), url()]).default(""),
  }).superRefine((m, ctx) => {
    if (m.smtpHost !== "" && m.to.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["to"],
        message: "must name at least one recipient when mail.smtpHost is set",
      });
    }
  }).prefault({}),
  gateway: z.object({
    /** Development only: accept browser-protocol connections without a token. Refused unless HTTP is bound to loopback. */
    devBypass: bool().default(false),
    /** Browser origins allowed to open WebSockets (besides the appliance's own origin). */
    allowedOrigins: list(
      z.string().regex(/^https?:\/\/[^/]+$/, "expected origins like https://praxis.example"),
    ).default(
      [],
    ),
    /** Addresses (IPs or IPv4 CIDRs) telephony transports accept connections from. */
    telephonyPeers: list(z.string().regex(/^[0-9a-fA-F:.]+(\/\d{1,3})?$/, "expected an IP address or CIDR"))
      .default([
        "127.0.0.1/8",
        "::1",
      ]),
    /** Token bucket per connection: messages per second (also the burst size). */
    messagesPerSecond: int(1, 100_000).default(120),
    /** Largest accepted WebSocket message, in bytes. */
    maxFrameBytes: int(1024, 16 * 1024 * 1024).default(65_536),
    /** Concurrent connections from one remote address. */
    maxConnectionsPerAddress: int(1, 10_000).default(32),
    /**
     * Test calls (browser protocol) have no telephone system: a transfer is simulated, the person's phone
     * "rings" this many milliseconds, then the call counts as handed over and ends.
     */
    testTransferRingMs: int(0, 60_000).default(1_500),
  }).prefault({}),
  freeswitch: z.object({
    /** Serve mod_audio_fork on /ws/freeswitch and keep an event-socket connection (readiness checks it). */
    enabled: bool().default(false),
    /** Event socket (mod_event_socket) address. */
    eslHost: host().default("127.0.0.1"),
    eslPort: port().default(8021),
    eslPassword: z.string().min(1).default("ClueCon"),
    /** Dialplan context that forks call audio to TOM, used for outbound `originate`. */
    context: z.string().min(1).default("tom"),
    /** Gateway or endpoint prefix for outbound calls, e.g. `sofia/gateway/provider/`. */
    dialPrefix: z.string().default("sofia/gateway/provider/"),
    /** Where playback files for `uuid_broadcast` are written (empty: `<dataDir>/playback`). */
    playbackDir: z.string().default(""),
    /** Dialplan context of transfer targets (`uuid_transfer <uuid> <target> XML <context>`; infra/deploy/freeswitch). */
    transferContext: z.string().regex(/^[A-Za-z0-9_.-]+$/, "expected a dialplan context name").default(
      "tom_transfer",
    ),
    /** Prefix that makes a voicemail box a dialplan extension (`*99<box>` leaves a message in FreeSWITCH's default). */
    transferVoicemailPrefix: z.string().regex(/^[0-9A-Za-z*#+_.-]*$/, "expected dialplan digits like *99")
      .default("*99"),
    /**
     * Warm transfer: TOM calls the target first (`originate` of `user/<ext>` or `dialPrefix` + number), tells
     * the person who calls and why, then bridges (`uuid_bridge`); nobody answers within `warmRingSeconds`: the
     * caller stays with TOM. Voicemail stays cold.
     */
    warmTransfer: bool().default(false),
    /** Seconds the target rings; with the briefing it stays within TOM's 30 s bound of a transfer. */
    warmRingSeconds: int(5, 20).default(15),
  }).prefault({}),
  twilio: z.object({
    accountSid: z.string().regex(/^(AC[0-9a-fA-F]{32})?$/, "expected an Account SID like AC0123...").default(
      "",
    ),
    /** Verifies `X-Twilio-Signature` when set; also the REST API password. */
    authToken: z.string().default(""),
    /** Public base URL Twilio reaches TOM at (for TwiML and signature checks), e.g. https://tom.praxis.example */
    publicUrl: z.string().default(""),
    /**
     * Where a call TOM cannot take (at `maxCalls`, shutting down) goes (E.164): the voice webhook answers
     * TwiML that dials it. Empty: the call is rejected as busy.
     */
    fallbackNumber: z.string().regex(/^(\+[1-9]\d{6,14})?$/, "expected an E.164 number like +4930123456")
      .default(""),
    /** Caller ID for outbound calls (E.164). */
    fromNumber: z.string().regex(/^(\+[1-9]\d{6,14})?$/, "expected an E.164 number like +4930123456").default(
      "",
    ),
    apiBase: url().default("https://api.twilio.com"),
    /** Cold transfer: seconds the person's phone rings (`<Dial timeout>`) before Twilio gives up. */
    transferRingSeconds: int(5, 600).default(30),
  }).prefault({}),
  ui: z.object({
    /** Send cookies with Secure (set when TOM sits behind a TLS reverse proxy). */
    secureCookies: bool().default(false),
    /**
     * Reverse proxies (IPs or CIDRs) whose `X-Forwarded-For`/`Forwarded` names the client (login
     * throttling per client); from any other peer those headers are ignored.
     */
    trustedProxies: list(z.string().regex(/^[0-9a-fA-F:.]+(\/\d{1,3})?$/, "expected an IP address or CIDR"))
      .default(["127.0.0.1/8", "::1"]),
    /** Session lifetime in hours. */
    sessionHours: int(1, 24 * 30).default(12),
    /** Transcript encryption key file (32 random bytes, base64); empty: `<dataDir>/secrets/transcripts.key`. */
    transcriptKeyFile: z.string().default(""),
  }).prefault({}),
  /** Ranges from infra/pipeline_bounds.ts, the same ones the pipeline checks. */
  pipeline: z.object({
    /** Speech must last this long to count (ms). */
    minSpeechMs: intIn(PB.minSpeechMs).default(100),
    /** Silence that ends the caller's turn (ms). */
    endOfTurnSilenceMs: intIn(PB.endOfTurnSilenceMs).default(500),
    /** Speech while TOM talks interrupts at once from this length (ms); shorter bursts are checked for "ja", "mhm". */
    bargeInMinMs: intIn(PB.bargeInMinMs).default(500),
    /** Speculative end of turn (STT and LLM start in a short pause; false: the fixed silence, the baseline). */
    speculative: bool().default(true),
    /** The pause that starts speculative work, and the silences for complete / unfinished endings (ms). */
    speculativePauseMs: intIn(PB.speculativePauseMs).default(200),
    earlyEndSilenceMs: intIn(PB.earlyEndSilenceMs).default(300),
    lateEndSilenceMs: intIn(PB.lateEndSilenceMs).default(1200),
    /** Caller speech while TOM talks after which its words decide a barge-in (ms); 0: `bargeInMinMs` only. */
    bargeInProbeMs: intIn(PB.bargeInProbeMs).default(250),
    /** The reply's first audio starts at the first clause of a long first sentence (false: at its full stop). */
    clauseStart: bool().default(true),
    /** Caller silence before TOM asks again (s), and how often before a polite goodbye. */
    silenceRepromptSeconds: intIn(scaledBounds(PB.silenceRepromptMs, 1000)).default(8),
    maxReprompts: intIn(PB.maxReprompts).default(1),
    /** Longest call (minutes). */
    maxCallMinutes: intIn(scaledBounds(PB.maxCallMs, 60_000)).default(15),
    /** Engine deadlines (ms): past them TOM apologises, retries once, then offers a callback. */
    sttTimeoutMs: intIn(PB.sttTimeoutMs).default(5000),
    /** Both the first token's deadline and the longest gap between tokens. */
    llmTimeoutMs: intIn(commonBounds(PB.llmFirstTokenTimeoutMs, PB.llmTokenGapMs)).default(1800),
    ttsTimeoutMs: intIn(PB.ttsTimeoutMs).default(1800),
    retryDelayMs: intIn(PB.retryDelayMs).default(1500),
    /** Longest answer (tokens) and sampling temperature. */
    maxTokens: intIn(PB.maxTokens).default(120),
    temperature: num(PB.temperature.min, PB.temperature.max).default(0.6),
  }).prefault({}),
  rl: z.object({
    /** A JSON file of policy variants (empty: the 12 shipped in rl/variants.json). */
    variantsFile: z.string().default(""),
    /** Analyse finished calls (sentiment, summary, memory) with the LLM's constrained JSON output. */
    analysis: bool().default(true),
    analysisIntervalSeconds: int(1, 86_400).default(30),
    /** Ask the caller for a rating (1-5, spoken or by key) when they say goodbye. */
    askRating: bool().default(true),
  }).prefault({}),
  retention: z.object({
    /** Default retention of a person's data, in days. */
    days: int(1, 365).default(30),
    /** Recordings are kept this many hours. */
    recordingHours: int(1, 24 * 365).default(24),
  }).prefault({}),
  recording: z.object({
    enabled: bool().default(false),
  }).prefault({}),
  log: z.object({
    level: z.enum(["debug", "info", "warn", "error"]).default("info"),
    /** Salt for hashing phone numbers and names in logs. Empty: generated into `<dataDir>/secrets/log.salt`. */
    hashSalt: z.string().default(""),
  }).prefault({}),
  shutdown: z.object({
    /** How long SIGTERM waits for calls to finish. */
    drainSeconds: int(0, 3600).default(20),
  }).prefault({}),
});

/** A validated configuration with paths resolved. */
export type Config = z.infer<typeof ConfigSchema>;

/** Invalid configuration: start-up stops with exit code 2 and this message. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

/** `http.port` -> `TOM_HTTP_PORT`. */
export function envName(path: string): string {
  return "TOM_" +
    path.split(".").map((p) => p.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase()).join("_");
}

function leafPaths(schema: z.ZodType, prefix = ""): string[] {
  // deno-lint-ignore no-explicit-any -- zod's internal def is not part of its typed surface
  let s: any = schema;
  while (s?._zod?.def && ["default", "prefault", "optional", "pipe"].includes(s._zod.def.type)) {
    s = s._zod.def.type === "pipe" ? s._zod.def.out : s._zod.def.innerType;
  }
  if (s?._zod?.def?.type === "object") {
    return Object.entries(s._zod.def.shape as Record<string, z.ZodType>)
      .flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k));
  }
  return [prefix];
}

/** Every configuration key, as `a.b` paths. */
export const CONFIG_KEYS: readonly string[] = leafPaths(ConfigSchema);
const ENV_TO_KEY = new Map(CONFIG_KEYS.map((k) => [envName(k), k]));
/** `TOM_*` variables that are not keys but are understood. */
const OTHER_ENV = new Set(["TOM_CONFIG"]);

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    if (typeof cur[p] !== "object" || cur[p] === null) cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]] = value;
}

function getPath(obj: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>(
    (o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined),
    obj,
  );
}

/** Options of {@linkcode loadConfig}. */
export interface LoadConfigOptions {
  /** Environment (default: the process environment). */
  env?: Record<string, string>;
  /** JSON config file; default `TOM_CONFIG`. */
  file?: string;
  /** Working directory for relative paths (default: `Deno.cwd()`). */
  cwd?: string;
}

/**
 * Read and validate the configuration.
 *
 * @throws {ConfigError} naming each invalid key, its environment variable and what is wrong.
 */
export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const env = opts.env ?? Deno.env.toObject();
  const problems: string[] = [];
  let raw: Record<string, unknown> = {};
  const file = opts.file ?? env.TOM_CONFIG;
  if (file) {
    try {
      const parsed = JSON.parse(Deno.readTextFileSync(file));
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        problems.push(`config file ${file}: expected a JSON object`);
      } else raw = parsed;
    } catch (e) {
      problems.push(`config file ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith("TOM_") || OTHER_ENV.has(name)) continue;
    const key = ENV_TO_KEY.get(name);
    if (!key) {
      const near = closest(name, [...ENV_TO_KEY.keys()]);
      problems.push(
        `${name}: unknown setting${near ? ` (did you mean ${near}?)` : ""}; \`tom --help\` lists all`,
      );
      continue;
    }
    setPath(raw, key, value);
  }
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const key = issue.path.join(".");
      const shown = SECRET_KEYS.has(key) ? "" : describeValue(getPath(raw, key));
      const where = ENV_TO_KEY.has(envName(key)) && env[envName(key)] !== undefined
        ? `${envName(key)} (${key})`
        : key === ""
        ? "config"
        : `${key} (${envName(key)})`;
      problems.push(`${where}: ${issue.message}${shown}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return resolvePaths(result.data as Config, opts.cwd ?? Deno.cwd(), env);
}

function closest(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDist = 4;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d < bestDist) [best, bestDist] = [c, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

function describeValue(v: unknown): string {
  if (v === undefined) return "";
  const s = JSON.stringify(v);
  return `, got ${s.length > 60 ? s.slice(0, 57) + "..." : s}`;
}

function resolvePaths(c: Config, cwd: string, env: Record<string, string>): Config {
  const enginesDir = resolve(cwd, c.enginesDir || defaultEnginesDir((k) => env[k]));
  const inEngines = (p: string, rel: string) => (p ? resolve(cwd, p) : join(enginesDir, rel));
  // An empty model key takes the model chosen with `tom models use` (infra/engines/model_selection.ts).
  let selected: ModelSelection;
  try {
    selected = readModelSelection(enginesDir);
  } catch (e) {
    throw new ConfigError([e instanceof Error ? e.message : String(e)]);
  }
  return {
    ...c,
    dataDir: resolve(cwd, c.dataDir),
    enginesDir,
    stt: {
      ...c.stt,
      bin: inEngines(c.stt.bin, "bin/whisper-server"),
      cliBin: inEngines(c.stt.cliBin, "bin/whisper-cli"),
      model: inEngines(c.stt.model, `models/${selected.stt ?? "synthetic-whisper-tiny.bin"}`),
    },
    llm: {
      ...c.llm,
      bin: inEngines(c.llm.bin, "bin/llama-server"),
      model: inEngines(c.llm.model, `models/${selected.llm ?? "synthetic-llama.gguf"}`),
    },
    tts: ttsWithSelection(c.tts, selected, enginesDir),
    models: { ...c.models, catalog: c.models.catalog ? resolve(cwd, c.models.catalog) : "" },
    vad: { ...c.vad, model: inEngines(c.vad.model, "models/silero_vad_16k_op15.onnx") },
  };
}

/**
 * The TTS settings with the voice chosen by `tom models use` (or the first start): an empty model key takes it;
 * Piper without its own binary takes the release `tom models pull piper-linux-ARCH` unpacked, if any; and
 * with espeak-ng's defaults untouched (kind and program), a chosen voice whose Piper program is installed
 * makes Piper the voice (espeak-ng stays its fallback). An explicit `TOM_TTS_BIN=/usr/bin/espeak-ng` keeps
 * espeak-ng.
 */
function ttsWithSelection(tts: Config["tts"], selected: ModelSelection, enginesDir: string): Config["tts"] {
  const model = tts.model || !selected.tts ? tts.model : join(enginesDir, "models", selected.tts);
  const runtime = piperRuntimeBin(enginesDir);
  if (tts.kind === "espeak-ng" && tts.bin === "espeak-ng" && !tts.model && selected.tts && runtime) {
    return { ...tts, kind: "piper", bin: runtime, model };
  }
  if (tts.kind === "piper" && ["", "espeak-ng", "piper"].includes(tts.bin)) {
    return { ...tts, model, bin: runtime ?? "piper" };
  }
  return { ...tts, model };
}

/** The configuration with secrets replaced, safe to print or log. */
export function redactConfig(c: Config): Config {
  const copy = structuredClone(c);
  for (const key of SECRET_KEYS) {
    if (getPath(copy, key)) setPath(copy as unknown as Record<string, unknown>, key, "<redacted>");
  }
  return copy;
}
