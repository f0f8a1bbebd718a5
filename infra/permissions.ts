/**
 * The egress policy, enforced by Deno itself: `tom serve` runs with permission flags built from the
 * configuration. Network access is granted to loopback, the listen addresses and the configured engine
 * endpoints (and the SMTP relay `mail.smtpHost:mail.smtpPort` when e-mail is configured) only, unless the
 * administrator allows more (`TOM_EGRESS_ALLOW_HOSTS`, or `TOM_EGRESS_ALLOW_ALL=true`). A `fetch` anywhere else fails inside Deno with `NotCapable` before any
 * packet is sent. An OTLP trace collector (`telemetry.otlpEndpoint`) is added only when that policy already
 * allows its host ({@linkcode egressAllows}); otherwise `tom serve` refuses to start.
 *
 * @module
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config } from "./config.ts";
import { managedCommand } from "./engines/specs.ts";
import { sttPoolUrls } from "./engines/pool.ts";

/** Loopback names that are always allowed. */
export const LOOPBACK_HOSTS: readonly string[] = ["127.0.0.1", "localhost", "[::1]"];

/** The network hosts (`host` or `host:port`) the serving process may reach. */
export function allowedNetHosts(config: Config): string[] {
  const hosts = new Set<string>(LOOPBACK_HOSTS);
  hosts.add(hostPort(config.http.host, config.http.port));
  hosts.add(hostPort(config.audiosocket.host, config.audiosocket.port));
  for (
    const u of [
      // Every STT pool member (infra/engines/pool.ts), each on its own port.
      ...(config.stt.kind !== "none" ? sttPoolUrls(config) : []),
      config.llm.kind !== "none" ? config.llm.url : "",
    ]
  ) {
    if (!u) continue;
    const url = new URL(u);
    if (!isLoopback(url.hostname)) {
      hosts.add(hostPort(url.hostname, Number(url.port || (url.protocol === "https:" ? 443 : 80))));
    }
  }
  if (!isLoopback(config.freeswitch.eslHost)) {
    hosts.add(hostPort(config.freeswitch.eslHost, config.freeswitch.eslPort));
  }
  // The e-mail relay the administrator configured: its host:port only (mail.ts connects by name, so no
  // resolved address needs a grant of its own).
  if (config.mail.smtpHost !== "" && !isLoopback(config.mail.smtpHost)) {
    hosts.add(hostPort(config.mail.smtpHost, config.mail.smtpPort));
  }
  for (const h of config.egress.allowHosts) hosts.add(h);
  const otlp = otlpEndpointHost(config);
  if (otlp && egressAllows(config, otlp.hostname, otlp.port)) hosts.add(hostPort(otlp.hostname, otlp.port));
  return [...hosts];
}

/** The OTLP collector's host and port (`telemetry.otlpEndpoint`), or undefined when trace export is off. */
export function otlpEndpointHost(
  config: Pick<Config, "telemetry">,
): { hostname: string; port: number } | undefined {
  const endpoint = config.telemetry.otlpEndpoint;
  if (!endpoint) return undefined;
  const url = new URL(endpoint);
  return { hostname: url.hostname, port: Number(url.port || (url.protocol === "https:" ? 443 : 80)) };
}

/**
 * Whether the egress policy lets the serving process reach `hostname:port` on its own account: loopback
 * always, any host with `egress.allowAll`, else only a host named in `egress.allowHosts` (as `host`, any
 * port, or as `host:port`). Engine endpoints are allowed for their engines only and do not count here.
 */
export function egressAllows(config: Pick<Config, "egress">, hostname: string, port: number): boolean {
  if (config.egress.allowAll || isLoopback(hostname)) return true;
  const bare = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return config.egress.allowHosts.some((entry) => {
    const e = entry.toLowerCase();
    return e === bare || e === `[${bare}]` || e === hostPort(bare, port).toLowerCase();
  });
}

function hostPort(host: string, port: number): string {
  const h = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return `${h}:${port}`;
}

/** Whether a host name is a loopback address. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Options of {@linkcode servePermissionFlags}. */
export interface PermissionOptions {
  /** Extra readable paths (default: everything is readable; reading is not egress). */
  extraWrite?: string[];
}

/**
 * The programs `tom serve` may run, each with the arguments TOM builds itself (no caller or administrator
 * text is ever an argument a program interprets as a command, a file to execute or a URL):
 * - tom-engine-guard (managed engines only), which starts the provisioned whisper-server and llama-server
 *   with the command lines of infra/engines/specs.ts and nothing else (engine_guard.c): the servers
 *   themselves can download (`-mu`, `-hf`) and start programs (`--mcp-servers-json`, `--tools`,
 *   `--convert`), so they are not on the list; a server outside the engines directory (`TOM_STT_BIN`,
 *   `TOM_LLM_BIN`) is, trusted as the administrator installed it;
 * - whisper-cli (the STT fallback, when `stt.cliBin` is set): model, a temp WAV, language, output path;
 * - espeak-ng (TTS, and `tom probe`'s caller voice): voice, speed, pitch; the text goes through stdin;
 * - piper (TTS kind piper): model, speaker, length scale; the text goes through stdin;
 * - nvidia-smi (GPU facts for the admin UI's doctor page and /metrics): fixed query arguments.
 * Not sox (it runs a shell for a `|cmd` input file; WAV, resampling and G.711 are in-process in
 * gateway/audio) and not df (disk space comes from statfs, infra/engines/hardware.ts).
 */
export function servedPrograms(config: Config): string[] {
  const run = [
    ...(config.manageEngines && config.stt.kind === "whisper-server"
      ? [managedCommand(config, config.stt.bin, "whisper-server", []).command]
      : []),
    ...(config.stt.kind !== "none" ? [config.stt.cliBin] : []),
    ...(config.manageEngines && config.llm.kind === "llama-server"
      ? [managedCommand(config, config.llm.bin, "llama-server", []).command]
      : []),
    ...(config.tts.kind === "espeak-ng" ? [config.tts.bin] : []),
    // Piper's default binary name when TOM_TTS_BIN is left at its espeak-ng default (pipeline/engines/tts.ts).
    ...(config.tts.kind === "piper" ? [config.tts.bin === "espeak-ng" ? "piper" : config.tts.bin] : []),
    "espeak-ng",
    "nvidia-smi",
  ];
  return [...new Set(run.filter((r) => r !== "" && findExecutable(r)))];
}

/**
 * The `deno run` permission flags of `tom serve` for this configuration.
 *
 * Reading is allowed everywhere (the code, engines and models live in several places; reading is not
 * egress); writing only to the data directory and the temporary directory; running only
 * {@linkcode servedPrograms}; the network per {@linkcode allowedNetHosts}.
 */
export function servePermissionFlags(config: Config, opts: PermissionOptions = {}): string[] {
  const net = config.egress.allowAll ? "--allow-net" : `--allow-net=${allowedNetHosts(config).join(",")}`;
  const write = [config.dataDir, tmpdir(), ...(opts.extraWrite ?? [])];
  const run = servedPrograms(config);
  return [
    "--no-prompt",
    net,
    "--allow-read",
    `--allow-write=${write.join(",")}`,
    // Deno refuses an empty list: with no program installed, no program may run at all.
    ...(run.length > 0 ? [`--allow-run=${run.join(",")}`] : []),
    "--allow-env",
    "--allow-sys",
  ];
}

/** Whether a command name (looked up on PATH) or path names an existing file; Deno refuses unknown ones. */
function findExecutable(cmd: string): boolean {
  const candidates = cmd.includes("/")
    ? [cmd]
    : (Deno.env.get("PATH") ?? "").split(":").filter((d) => d !== "").map((d) => join(d, cmd));
  return candidates.some((p) => {
    try {
      return Deno.statSync(p).isFile;
    } catch {
      return false;
    }
  });
}

/** Whether this process's network access is sandboxed (false when it runs with a blanket `--allow-net`). */
export function egressSandboxed(): boolean {
  return Deno.permissions.querySync({ name: "net" }).state !== "granted";
}
