/**
 * `tom serve`: open and migrate the store, start the engines, serve HTTP, and on SIGTERM/SIGINT drain
 * calls, stop the engines and close the database.
 *
 * @module
 */
import { type Config, ConfigError } from "../infra/mod.ts";
import { createLogger, type Logger } from "../infra/mod.ts";
import { initTelemetry, startTraceExport, type Telemetry } from "../infra/mod.ts";
import { createHttpApp } from "../infra/mod.ts";
import { serveNode } from "../infra/mod.ts";
import { CallRegistry } from "../infra/mod.ts";
import { loadOrCreateSecret } from "../infra/mod.ts";
import { egressSandboxed } from "../infra/mod.ts";
import { databasePath, transcriptKeyPath } from "./commands/migrate.ts";
import { reapplyErasureLog } from "../ui/mod.ts";
import { VERSION } from "../infra/mod.ts";
import { autoSizeEnginePools, engineSpecs, resolveGpuLayers } from "../infra/mod.ts";
import { openStore, type Store } from "../store/mod.ts";
import { registerApplianceMetrics } from "./appliance_metrics.ts";
import { type EngineStarter, startEngines } from "./engine_starter.ts";
import { readinessChecks } from "./readiness.ts";
import { mountUi, type UiHandle } from "./admin_ui.ts";
import { startScheduledCalls } from "./schedules.ts";
import { callLearning, type Learning, startLearning } from "./learning.ts";
import { usageLogger } from "./usage_log.ts";
import { type RequestMail, startRequestMail } from "./request_mail.ts";
import {
  createJsonChat,
  pipelineAnswerer,
  type PipelineOptions,
  pipelineOptionsOf,
} from "../pipeline/mod.ts";
import { createLlm } from "../pipeline/mod.ts";
import { createStt } from "../pipeline/mod.ts";
import { createTts, type DegradableTts } from "../pipeline/mod.ts";
import { openVad } from "../pipeline/mod.ts";
import { getAccount } from "../store/mod.ts";
import {
  amiCallerNumber,
  AmiClient,
  amiTransferer,
  type Answerer,
  assertGatewayConfig,
  type AsteriskCallRef,
  type AsteriskTransferer,
  type CallStartInfo,
  defaultAccountId,
  echoAnswerer,
  type FreeswitchTransport,
  type GatewayDeps,
  type GatewayHandle,
  loadVerificationKeys,
  mountAsteriskWebSocket,
  mountFreeswitch,
  mountGateway,
  mountTwilio,
  recoverInterruptedCalls,
  startAudioSocketServer,
  type TransportMount,
} from "../gateway/mod.ts";

/** A running appliance, as tests and the CLI see it. */
export interface Appliance {
  /** The bound HTTP address. */
  addr: Deno.NetAddr;
  log: Logger;
  store: Store;
  telemetry: Telemetry;
  calls: CallRegistry;
  /** The gateway (all transports). */
  gateway: GatewayHandle;
  /** The admin UI: live-call hub and transcript keyring for the pipeline. */
  ui: UiHandle;
  /** Resolves when the server has stopped. */
  finished: Promise<void>;
  /** Drain calls, stop engines, close the database (idempotent). */
  shutdown(reason: string): Promise<void>;
}

/**
 * The answering stage: the conversation pipeline on the configured engines, or the diagnostic echo
 * (`TOM_ANSWER=echo`, or when an engine kind is `none`). Engines that are still starting are fine: the
 * adapters report them as unavailable and the call apologises. Silero loads in the background.
 */
async function answeringStage(
  config: Config,
  deps: {
    store: Store;
    log: Logger;
    telemetry: Telemetry;
    keyring: UiHandle["keyring"];
    learning: Learning;
    pipelineOptions: PipelineOptions;
    /** A request was stored: the staff's live badge and the optional mail notice. */
    onRequest: NonNullable<Parameters<typeof pipelineAnswerer>[0]["onRequest"]>;
  },
): Promise<{ answer: Answerer; ttsDegraded?: () => string | undefined; close(): Promise<void> }> {
  const echo = { answer: echoAnswerer(), close: () => Promise.resolve() };
  if (config.answer === "echo") {
    deps.log.warn("diagnostic answering stage: calls hear a tone and their own echo (TOM_ANSWER=echo)");
    return echo;
  }
  const stt = createStt(config);
  const llm = createLlm(config);
  // Piper that cannot speak: espeak-ng speaks instead, said once here and on /readyz (tts_fallback.ts).
  const tts = await createTts(config.tts, {
    onDegraded: (reason) => deps.log.warn("TTS fallback: espeak-ng speaks instead of Piper", { reason }),
  });
  if (!stt || !llm || !tts) {
    deps.log.warn("an engine kind is none: calls get the diagnostic echo instead of the pipeline");
    await tts?.close?.();
    return echo;
  }
  // A compiled binary carries the Silero model: used when the configured file is missing.
  const vad = openVad(config.vad, { fallback: true, embeddedModel: true });
  vad.then(
    (p) => p.degraded && deps.log.warn("VAD fallback in use", { reason: p.degraded }),
    (e) => deps.log.error("no VAD available", { error: e }),
  );
  const answer = pipelineAnswerer({
    stt,
    llm,
    tts,
    vad: async () => (await vad).createVad(),
    options: deps.pipelineOptions,
    log: deps.log,
    meter: deps.telemetry.meter,
    tracer: deps.telemetry.tracer,
    config,
    store: deps.store,
    keyring: deps.keyring,
    learning: callLearning(config, deps.learning, { store: deps.store, log: deps.log }),
    onCallEnd: usageLogger(config.dataDir, deps.log),
    onRequest: deps.onRequest,
    // The after-call pass notes what a call did not: a short constrained answer (an empty list mostly).
    afterCall: config.llm.kind === "none" ? undefined : createJsonChat({
      kind: config.llm.kind,
      url: config.llm.url,
      model: config.llm.modelName,
      maxTokens: 800,
      timeoutMs: 90_000,
    }),
  });
  return {
    answer,
    ttsDegraded: () => (tts as Partial<DegradableTts>).degraded,
    async close() {
      await tts.close?.();
      await vad.then((v) => v.dispose(), () => {});
    },
  };
}

/**
 * The telephony transports, in mount order: FreeSWITCH first when enabled (its transport is reported
 * through `onFreeswitch` for readiness and scheduled calls), then Twilio, chan_websocket and AudioSocket.
 */
function transportMounts(
  config: Config,
  onFreeswitch: (fs: FreeswitchTransport) => void,
): TransportMount[] {
  // Cold transfers of Asterisk calls through AMI (asterisk.amiEnabled): one client for both transports,
  // closed with the gateway (the last mount returns it).
  let ami: AmiClient | undefined;
  let transfer: AsteriskTransferer | undefined;
  const asteriskTransfer = (log: Logger): AsteriskTransferer | undefined => {
    const a = config.asterisk;
    if (!a.amiEnabled) return undefined;
    ami ??= new AmiClient({
      host: a.amiHost,
      port: a.amiPort,
      username: a.amiUser,
      secret: a.amiSecret,
      log,
    });
    transfer ??= amiTransferer(ami, {
      context: a.transferContext,
      log,
      ...(a.warmTransfer ? { warm: { context: a.warmContext, ringSeconds: a.warmRingSeconds } } : {}),
    });
    return transfer;
  };
  // The caller ID Asterisk's transports do not carry, asked of AMI (same client); the session writes it
  // as E.164 for the match with people's numbers.
  const callerId = (ref: AsteriskCallRef) => ami ? amiCallerNumber(ami, ref) : Promise.resolve(undefined);
  const asterisk = (log: Logger) => {
    const transfer = asteriskTransfer(log);
    return transfer ? { transfer, callerId } : {};
  };
  const transports: TransportMount[] = [
    (app, deps, guard) => mountTwilio(app, deps, guard),
    (app, deps, guard) => mountAsteriskWebSocket(app, deps, guard, asterisk(deps.log)),
    (_app, deps, guard) => startAudioSocketServer(deps, guard, asterisk(deps.log)),
    () => ami,
  ];
  if (config.freeswitch.enabled) {
    transports.unshift((app, deps, guard) => {
      const fs = mountFreeswitch(app, deps, guard);
      onFreeswitch(fs);
      return fs;
    });
  }
  return transports;
}

/** Start the appliance. Resolves once HTTP is listening; engines come up in the background. */
export async function startAppliance(loaded: Config): Promise<Appliance> {
  // The STT pool and the LLM's slots, sized from the box when configured as 0 (infra/engines/pool.ts).
  const { config: sized, sizing } = await autoSizeEnginePools(loaded);
  // llama-server's GPU layers from the free VRAM (`auto` on the GPU profiles; infra/engines/gpu_layers.ts).
  const { config, choice: layers } = await resolveGpuLayers(sized);
  assertGatewayConfig(config);
  const pipelineOptions = pipelineOptionsOf(config); // before the first file is written
  const salt = config.log.hashSalt || loadOrCreateSecret(config.dataDir, "log.salt", 32);
  const log = createLogger({ level: config.log.level, salt, fields: { service: "tom" } });
  log.info("engine pools sized", {
    sttPool: sizing.sttPool,
    llmParallel: sizing.llmParallel,
    why: sizing.why,
  });
  if (layers?.warning) log.warn("LLM partly or wholly on the CPU", { why: layers.why });
  else if (layers) log.info("LLM GPU layers chosen", { layers: String(layers.layers), why: layers.why });
  const telemetry = initTelemetry(VERSION);
  const store = openStore(databasePath(config), { keyFile: transcriptKeyPath(config) });
  if (store.appliedMigrations.length > 0) {
    log.info("database migrated", { applied: store.appliedMigrations, path: store.path });
  }
  // Calls a killed run left open are ended (and their recordings closed) before any call is taken.
  recoverInterruptedCalls({ config, store, log });
  // People erased after the backup this database was restored from are erased again (erasure log).
  const reErased = reapplyErasureLog(store, config.dataDir);
  if (reErased > 0) log.info("erasures applied again from the erasure log", { people: reErased });
  const calls = new CallRegistry({ max: config.maxCalls });
  const specs = engineSpecs(config);
  const meter = telemetry.meter;
  // deno-lint-ignore prefer-const -- assigned once the metrics exist; the gauge reads it when scraped
  let engines: EngineStarter | undefined;
  const engineMetrics = registerApplianceMetrics(meter, {
    engines: specs.map((s) => s.name),
    calls,
    supervisor: () => engines?.supervisor(),
  });
  try {
    startTraceExport(config, { serviceVersion: VERSION }); // stopped by telemetry.shutdown()
  } catch (e) {
    store.close();
    throw e; // a ConfigError when the OTLP endpoint is outside the egress policy: exit 2
  }

  let draining = false;
  // deno-lint-ignore prefer-const -- assigned after the HTTP app exists; /metrics reads it lazily
  let learning: Learning | undefined;
  let freeswitch: FreeswitchTransport | undefined;
  // deno-lint-ignore prefer-const -- assigned once the answering stage exists; /readyz reads it lazily
  let ttsDegraded: (() => string | undefined) | undefined;
  const app = createHttpApp({
    version: VERSION,
    telemetry,
    log,
    readiness: readinessChecks(config, specs, store, () => freeswitch, () => ttsDegraded?.()),
    draining: () => draining,
    activeCalls: () => calls.size,
    extraMetrics: () => learning?.metrics.toPrometheus() ?? "",
  });

  // The gateway's token keys are shared with the UI, so a key rotation on the settings page takes effect
  // for new calls at once.
  const keys = await loadVerificationKeys(config);
  const ui = await mountUi(app, {
    config,
    store,
    log,
    telemetry,
    calls,
    learning: () => learning,
    onJwtKeyRotated: (k) => {
      keys.hmac = k;
    },
  });
  const transports = transportMounts(config, (fs) => (freeswitch = fs));
  // Test calls from the admin UI carry `ui:<accountId>` as their (signed) subject.
  const accountFor = (info: CallStartInfo): string => {
    const sub = info.meta?.subject;
    if (typeof sub === "string" && sub.startsWith("ui:") && getAccount(store, sub.slice(3))) {
      return sub.slice(3);
    }
    return defaultAccountId(store);
  };
  learning = await startLearning(config, { store, log, keyring: ui.keyring });
  // Staff hear of a new request on the inbox's live badge and, when an SMTP relay is configured, by mail
  // (only "Neues Anliegen" and a link: no personal data leaves the box).
  const requestMail: RequestMail | null = startRequestMail(config, log);
  const answering = await answeringStage(config, {
    store,
    log,
    telemetry,
    keyring: ui.keyring,
    learning,
    pipelineOptions,
    onRequest: (accountId, r) => {
      ui.requestNoted(accountId, r);
      requestMail?.notify(accountId, r);
    },
  });
  ttsDegraded = answering.ttsDegraded;
  const gatewayDeps: GatewayDeps = {
    config,
    store,
    log,
    meter,
    calls,
    answer: answering.answer,
    accountFor,
    watch: ui.feed, // the live feed wraps every call's output, like the recorder
  };
  let gateway: GatewayHandle;
  try {
    gateway = await mountGateway(app, gatewayDeps, { keys, transports });
  } catch (e) {
    await requestMail?.close();
    await ui.close();
    store.close();
    throw e;
  }

  // node:http, not Deno.serve: header, request and idle timeouts, and WebSocket size caps that hold
  // before a message is buffered (infra/http_server.ts says why).
  const h = config.http;
  let server: Awaited<ReturnType<typeof serveNode>>;
  try {
    server = await serveNode({
      hostname: h.host,
      port: h.port,
      limits: {
        headersTimeoutMs: h.headersTimeoutSeconds * 1000,
        requestTimeoutMs: Math.max(h.requestTimeoutSeconds, h.headersTimeoutSeconds) * 1000,
        keepAliveTimeoutMs: h.keepAliveTimeoutSeconds * 1000,
      },
      onError: (err) => log.error("HTTP request failed", { error: err }),
    }, (req, env) => app.fetch(req, env));
  } catch (e) {
    // Port taken or not allowed: undo what started, so nothing writes after the error is reported.
    await gateway.close();
    await answering.close();
    await learning?.stop();
    await requestMail?.close();
    await ui.close();
    store.close();
    throw e;
  }
  const addr = server.addr;
  log.info("listening", { address: `http://${addr.hostname}:${addr.port}`, version: VERSION });
  if (!egressSandboxed() && !config.egress.allowAll) {
    log.warn("network egress is NOT sandboxed: start through `deno task start` or the compiled binary");
  }

  const scheduler = startScheduledCalls(config, gatewayDeps, freeswitch?.esl, log);
  engines = startEngines(config, specs, { log, onRestart: engineMetrics.restarted });

  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      draining = true;
      engines?.halt();
      await scheduler?.stop();
      log.info("shutting down", { reason, active_calls: calls.size, drain_s: config.shutdown.drainSeconds });
      const forced = await calls.drain(config.shutdown.drainSeconds * 1000);
      if (forced > 0) log.warn("calls ended by shutdown", { count: forced });
      await gateway.close();
      await server.shutdown();
      await engines?.stop();
      await answering.close();
      await learning?.stop();
      await requestMail?.close();
      await ui.close();
      store.close();
      await telemetry.shutdown().catch(() => {});
      log.info("stopped");
    })();
    return stopping;
  };

  return { addr, log, store, telemetry, calls, gateway, ui, finished: server.finished, shutdown };
}

/** Run `tom serve` until a signal; returns the exit code. */
export async function serve(config: Config): Promise<number> {
  let appliance: Appliance;
  try {
    appliance = await startAppliance(config);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`tom: ${e.message}`);
      return 2;
    }
    throw e;
  }
  const done = new Promise<number>((resolve) => {
    const onSignal = (sig: Deno.Signal) => () => {
      appliance.shutdown(sig).then(() => resolve(0), (e) => {
        appliance.log.error("shutdown failed", { error: e });
        resolve(1);
      });
    };
    Deno.addSignalListener("SIGTERM", onSignal("SIGTERM"));
    Deno.addSignalListener("SIGINT", onSignal("SIGINT"));
  });
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    appliance.log.error("unhandled promise rejection", { error: e.reason });
  });
  return await done;
}
