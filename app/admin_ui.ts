/**
 * The admin UI wing of the composition root: joins ui/'s kit and routes/' manifest on the appliance's
 * hono app: the pages and the JSON API (/api), the island bundles and the stylesheet (/ui/...). It opens
 * the transcript keyring (re-encrypting after a key rotation), which the pipeline uses to store
 * transcripts ({@linkcode UiHandle.keyring}), creates the setup code while no user exists, starts the
 * retention job, and returns the live feed that the gateway wraps around every call
 * ({@linkcode UiHandle.feed}).
 *
 * @module
 */
import type { Hono } from "hono";
import { join } from "node:path";
import { type Config, ConfigError } from "../infra/mod.ts";
import type { Logger } from "../infra/mod.ts";
import type { Telemetry } from "../infra/mod.ts";
import type { CallRegistry } from "../infra/mod.ts";
import { loadOrCreateSecret } from "../infra/mod.ts";
import { type DoctorReport, runDoctor } from "../infra/mod.ts";
import { encodeBase64Url } from "../infra/mod.ts";
import { type CallWatcher, hmacKey } from "../gateway/mod.ts";
import { anyUserExists, callConsent, type Store } from "../store/mod.ts";
import { rekeyTranscripts, type TranscriptKeyring } from "../store/crypto/mod.ts";
import { SessionStore } from "../ui/mod.ts";
import { LoginThrottle, type ThrottleOptions } from "../ui/mod.ts";
import { trustedProxyProblems } from "../ui/mod.ts";
import { IslandAssets } from "../ui/mod.ts";
import { defaultRoot, type IslandManifest } from "../ui/mod.ts";
import { LiveHub } from "../ui/mod.ts";
import { liveFeed } from "../ui/mod.ts";
import { RetentionJob } from "../ui/mod.ts";
import { mountRoutes } from "../ui/mod.ts";
import { inboxHub, type NotedRequest, publishRequestNoted } from "../ui/mod.ts";
import type { UiDeps } from "../ui/mod.ts";
import { MANIFEST, requestsNav } from "../routes/mod.ts";
import type { LearningView } from "../rl/mod.ts";

/** What {@linkcode mountUi} needs. */
export interface UiMountDeps {
  config: Config;
  store: Store;
  log: Logger;
  telemetry: Telemetry;
  calls?: CallRegistry;
  /** Share a hub with the pipeline (default: a new one, returned in the handle). */
  live?: LiveHub;
  /** Replace the system report (tests). */
  doctor?: () => Promise<DoctorReport>;
  /** Clock (tests). */
  now?: () => number;
  /** Where island bundles are cached (default `<dataDir>/cache/ui-islands`). */
  islandsCacheDir?: string;
  /** Prebuilt island bundles to fall back on (default `.cache/ui-dist` in the code's root, built by app/compile.ts). */
  prebuiltIslandsDir?: string;
  /** Replace the island builder (tests that do not need scripts). */
  buildIslands?: (opts: { root: string; cacheDir: string }) => Promise<IslandManifest>;
  /** Login throttle settings (tests). */
  throttle?: ThrottleOptions;
  /** Called with the new HS256 key after the settings page rotated it (share it with the gateway). */
  onJwtKeyRotated?: (key: Uint8Array) => void;
  /** Start the daily retention job (default true). */
  startJobs?: boolean;
  /**
   * The running learning loop for the learning page (its variants file and metrics). It starts after the
   * UI, so pass a getter: `learning: () => learning`. Without it the page reads the variants file in force
   * and shows no in-process metrics.
   */
  learning?: () => LearningView | undefined;
}

/** The mounted UI. */
export interface UiHandle {
  /** The hub of the Live page; {@linkcode UiHandle.feed} publishes to it. */
  live: LiveHub;
  /** The live feed: pass it to the gateway (GatewayDeps.watch) so every call shows on the Live page. */
  feed: CallWatcher;
  /** The transcript keyring: pass it to `storeTranscriptTurn` from store/crypto/mod.ts. */
  keyring: TranscriptKeyring;
  retention: RetentionJob;
  assets: IslandAssets;
  /** The mounted paths. */
  routes: string[];
  /** The hub of the "Anliegen" inbox (the badge in the navigation, the new rows of /requests). */
  inbox: LiveHub;
  /**
   * A request of `accountId` was stored (createRequest): its pages show it live (the open count in the
   * navigation, a new row on /requests). Only id, kind and urgency travel; pages fetch the rest.
   */
  requestNoted(accountId: string, r: NotedRequest): void;
  /**
   * Stop the retention timer and wait for the island build started at mount (it writes into the data
   * directory's cache; a shutdown must not leave it running).
   */
  close(): Promise<void>;
}

/** Mount the admin UI on `app`. Resolves once routes are mounted; island bundles build in the background. */
export async function mountUi(app: Hono, deps: UiMountDeps): Promise<UiHandle> {
  const { config, store, log } = deps;
  const proxyProblems = trustedProxyProblems(config.ui.trustedProxies);
  if (proxyProblems.length > 0) throw new ConfigError(proxyProblems);
  const ulog = log.child({ component: "ui" });
  const keyFile = config.ui.transcriptKeyFile || join(config.dataDir, "secrets", "transcripts.key");
  // One keyring for the store and the UI, so a rotation seals every table with the new key.
  const keyring = store.useKeyFile(keyFile);
  // Every start: finish a rotation a crash interrupted, and seal personal columns still plain (rows
  // written before this build). Batches of one transaction each; finished rows are skipped.
  const r = await rekeyTranscripts(store, keyring);
  if (r.rewritten + r.requests + r.fields + r.droppedKeys.length > 0) {
    ulog.info("sealed data re-encrypted after key rotation or sealed for the first time", {
      rewritten: r.rewritten,
      requests: r.requests,
      fields: r.fields,
      dropped: r.droppedKeys.length,
    });
  }
  const sessions = new SessionStore(store, { ttlHours: config.ui.sessionHours });
  const live = deps.live ?? new LiveHub();
  const inbox = inboxHub();
  const retention = new RetentionJob({
    store,
    config,
    log: ulog,
    purgeSessions: () => sessions.purgeExpired(),
    now: deps.now,
  });
  const setupCodeFile = join(config.dataDir, "secrets", "setup.code");
  if (!anyUserExists(store)) {
    loadOrCreateSecret(config.dataDir, "setup.code", 24);
    ulog.warn("first-run setup: open /setup and enter the code from the setup code file", {
      file: setupCodeFile,
    });
  }
  const jwtFile = () => loadOrCreateSecret(config.dataDir, "jwt.key", 32);
  const assets = new IslandAssets({
    root: defaultRoot(),
    cacheDir: deps.islandsCacheDir ?? join(config.dataDir, "cache", "ui-islands"),
    log: ulog,
    build: deps.buildIslands,
    prebuiltDir: deps.prebuiltIslandsDir ?? join(defaultRoot(), ".cache", "ui-dist"),
  });
  assets.ready();
  const uiDeps: UiDeps = {
    config,
    store,
    log: ulog,
    telemetry: deps.telemetry,
    calls: deps.calls,
    keyring,
    sessions,
    throttle: new LoginThrottle(deps.throttle),
    assets,
    live,
    inbox,
    requestsNav,
    retention,
    csrfKey: loadOrCreateSecret(config.dataDir, "ui-csrf.key", 32),
    setupCodeFile,
    doctor: deps.doctor ?? (() => runDoctor(config, { startManaged: false })),
    jwtKey: () => hmacKey(config.jwt.secret || jwtFile()),
    rotateJwtKey: () => {
      if (config.jwt.secret) return false;
      const file = join(config.dataDir, "secrets", "jwt.key");
      const tmp = `${file}.${Deno.pid}.tmp`;
      Deno.writeTextFileSync(tmp, encodeBase64Url(crypto.getRandomValues(new Uint8Array(32))) + "\n", {
        mode: 0o600,
      });
      Deno.renameSync(tmp, file);
      deps.onJwtKeyRotated?.(hmacKey(jwtFile()));
      ulog.info("call-token key rotated");
      return true;
    },
    now: deps.now ?? Date.now,
    learning: deps.learning,
  };
  app.get("/ui/*", (c) => assets.serve(c.req.path) ?? c.json({ error: "Not found" }, 404));
  const routes = mountRoutes(app, MANIFEST, uiDeps);
  if (deps.startJobs !== false) retention.start();
  const feed = liveFeed(live, {
    inbox,
    transcripts: (accountId, callId) => callConsent(store, accountId, callId)?.transcript === true,
  });
  return {
    live,
    feed,
    keyring,
    retention,
    assets,
    routes,
    inbox,
    requestNoted: (accountId, r) => {
      try {
        publishRequestNoted(inbox, store, accountId, r, uiDeps.now);
      } catch (e) {
        // The request is stored; a page that misses it shows it on the next load.
        ulog.warn("request not published to the inbox", { error: String(e) });
      }
    },
    close: async () => {
      retention.stop();
      await assets.ready();
    },
  };
}
