/**
 * Test harness of the admin UI: the appliance's HTTP app with the UI mounted on an in-memory store,
 * driven through `app.request` (no sockets), with a cookie jar per simulated browser.
 *
 * @module
 */
import { join } from "node:path";
import type { Hono } from "hono";
import { loadConfig } from "../../infra/config.ts";
import { createHttpApp } from "../../infra/http.ts";
import { createLogger, type Logger } from "../../infra/log.ts";
import { initTelemetry } from "../../infra/telemetry.ts";
import { mountUi, type UiHandle, type UiMountDeps } from "../../app/admin_ui.ts";
import { openStore, type Store } from "../../store/mod.ts";
import type { DoctorReport } from "../../infra/doctor.ts";
import { ROOT } from "../_helpers.ts";

/** A shared island build cache for all tests (gitignored). */
export const ISLANDS_CACHE = join(ROOT, ".cache", "ui-islands-test");

/** A fake doctor report (the real one probes hardware). */
export const FAKE_DOCTOR: DoctorReport = {
  time: new Date(0).toISOString(),
  profile: "cpu-dev",
  gate: "cpu-dev",
  ok: true,
  cpu: { model: "Test CPU", cores: 2 } as DoctorReport["cpu"],
  ram: { totalBytes: 8 * 1024 ** 3, availableBytes: 4 * 1024 ** 3 } as DoctorReport["ram"],
  disk: null,
  gpu: { devices: [] } as unknown as DoctorReport["gpu"],
  engines: [{
    name: "stt",
    kind: "whisper-server",
    managed: true,
    healthy: true,
    latencyMs: 3,
    checked: "running",
  }] as DoctorReport["engines"],
  gates: [{ name: "cpu-dev", pass: true, reasons: [] }],
  warnings: [],
};

/** A running UI under test. */
export interface TestUi {
  app: Hono;
  store: Store;
  ui: UiHandle;
  dataDir: string;
  logLines: string[];
  log: Logger;
  close(): Promise<void>;
}

/** Options of {@linkcode startTestUi}. */
export interface TestUiOptions extends Partial<Pick<UiMountDeps, "throttle" | "now" | "buildIslands">> {
  env?: Record<string, string>;
  /** Build real island bundles (default false: pages render without scripts). */
  islands?: boolean;
}

/** Mount the UI on a fresh app, store and data directory. */
export async function startTestUi(opts: TestUiOptions = {}): Promise<TestUi> {
  const dataDir = await Deno.makeTempDir({ prefix: "tom-ui-test-" });
  const config = loadConfig({
    env: { TOM_DATA_DIR: dataDir, TOM_LOG_HASH_SALT: "test-salt", ...opts.env },
    cwd: dataDir,
  });
  const logLines: string[] = [];
  const log = createLogger({ level: "debug", salt: "test-salt", sink: (l) => logLines.push(l) });
  const telemetry = initTelemetry("test");
  const store = openStore(":memory:");
  const app = createHttpApp({
    version: "test",
    telemetry,
    log,
    readiness: () => Promise.resolve([]),
    draining: () => false,
    activeCalls: () => 0,
  });
  const ui = await mountUi(app, {
    config,
    store,
    log,
    telemetry,
    doctor: () => Promise.resolve(FAKE_DOCTOR),
    islandsCacheDir: ISLANDS_CACHE,
    buildIslands: opts.islands
      ? undefined
      : opts.buildIslands ?? (() => Promise.reject(new Error("islands off in this test"))),
    startJobs: false,
    throttle: opts.throttle,
    now: opts.now,
  });
  await ui.assets.ready();
  return {
    app,
    store,
    ui,
    dataDir,
    logLines,
    log,
    async close() {
      await ui.close();
      store.close();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

/** A browser-like client: keeps cookies, reads CSRF tokens from pages, follows nothing by itself. */
export class Client {
  cookies = new Map<string, string>();
  constructor(readonly app: Hono, readonly origin = "http://tom.test") {}

  /** Send a request with the jar's cookies; stores Set-Cookie. */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) {
      headers.set(
        "cookie",
        [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "),
      );
    }
    const res = await this.app.request(this.origin + path, { ...init, headers, redirect: "manual" });
    for (const sc of res.headers.getSetCookie()) {
      const [pair] = sc.split(";");
      const i = pair.indexOf("=");
      const name = pair.slice(0, i);
      const value = pair.slice(i + 1);
      if (value === "" || /Max-Age=0/i.test(sc)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  /** GET a page and return its HTML. */
  async page(path: string): Promise<{ res: Response; html: string; csrf: string }> {
    const res = await this.fetch(path);
    const html = await res.text();
    return { res, html, csrf: /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? "" };
  }

  /** POST a form (with the CSRF token of `fromPage`, unless `csrf` is given). */
  async post(path: string, fields: Record<string, string | string[]>, csrf?: string): Promise<Response> {
    const token = csrf ?? (await this.page(path)).csrf;
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(fields)) {
      for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
    }
    if (token) body.set("_csrf", token);
    return await this.fetch(path, {
      method: "POST",
      body,
      headers: { "content-type": "application/x-www-form-urlencoded", origin: this.origin },
    });
  }
}

/** The one-time setup code the UI wrote. */
export function setupCode(t: TestUi): string {
  return Deno.readTextFileSync(join(t.dataDir, "secrets", "setup.code")).trim();
}

/** Password used by the helpers. */
export const PASSWORD = "geheim-und-lang-genug";

/** Run the first-run setup and log in as that administrator; returns the client. */
export async function setupAndLogin(
  t: TestUi,
  opts: { email?: string; kind?: "private" | "clinical"; accountName?: string } = {},
): Promise<Client> {
  const c = new Client(t.app);
  const email = opts.email ?? "admin@praxis.test";
  const res = await c.post("/setup", {
    code: setupCode(t),
    accountName: opts.accountName ?? "Praxis Dr. Weber",
    kind: opts.kind ?? "clinical",
    adminName: "Anna Admin",
    email,
    password: PASSWORD,
    password2: PASSWORD,
  });
  if (res.status !== 303) throw new Error(`setup failed: ${res.status} ${await res.text()}`);
  await login(c, email);
  return c;
}

/** Log a client in. */
export async function login(c: Client, email: string, password = PASSWORD): Promise<Response> {
  const res = await c.post("/login", { email, password });
  if (res.status !== 303) throw new Error(`login failed: ${res.status}`);
  return res;
}
