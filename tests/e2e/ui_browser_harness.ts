/**
 * Browser test harness: Debian's Chromium driven by playwright-core (never a downloaded browser), a real
 * TOM HTTP server on a loopback port with the UI (and optionally the gateway) mounted, axe-core for the
 * accessibility check, and screenshots under tests/artifacts/ui/.
 *
 * Without Chromium the browser tests skip with the reason; in CI (`CI=true`) they fail instead.
 * Install: `apt-get install -y chromium` (see infra/engines/chromium.ts).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { axe, type Browser, chromium, type Page } from "../_deps.ts";
import { startTestUi, type TestUi, type TestUiOptions } from "../ui/_harness.ts";
import { ROOT } from "../_helpers.ts";

/** The Chromium binary (Debian's package). */
export const CHROMIUM: string = Deno.env.get("TOM_CHROMIUM") ?? "/usr/bin/chromium";

function missing(): string | undefined {
  try {
    return Deno.statSync(CHROMIUM).isFile ? undefined : `${CHROMIUM} is not a file`;
  } catch {
    return `${CHROMIUM} not found (apt-get install -y chromium)`;
  }
}

/** Why browser tests cannot run, or undefined. */
export const chromiumMissing: string | undefined = missing();
/** `ignore` for browser tests: skip without Chromium, except in CI where that must fail. */
export const skipBrowser: boolean = chromiumMissing !== undefined && Deno.env.get("CI") !== "true";
if (chromiumMissing && skipBrowser) console.error(`skipping browser tests: ${chromiumMissing}`);

/** Where screenshots go. */
export const ARTIFACTS: string = join(ROOT, "tests", "artifacts", "ui");

/** Launch flags that work in containers without a GPU or network. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Launch headless Chromium (playwright gives it a fresh user data dir). */
export async function launch(extra: string[] = []): Promise<Browser> {
  if (chromiumMissing) throw new Error(`Cannot launch Chromium: ${chromiumMissing}`);
  return await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extra],
  });
}

/** A TOM HTTP server on a loopback port. */
export interface Server {
  url: string;
  t: TestUi;
  close(): Promise<void>;
}

/** Serve the test UI app on 127.0.0.1 with real sockets. */
export async function serve(
  opts: TestUiOptions & { mount?: (t: TestUi) => Promise<() => Promise<void>> } = {},
): Promise<Server> {
  const t = await startTestUi({ islands: true, ...opts });
  const unmount = opts.mount ? await opts.mount(t) : async () => {};
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, t.app.fetch);
  const { port } = server.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${port}`,
    t,
    async close() {
      await unmount();
      await server.shutdown();
      await t.close();
    },
  };
}

/** Save a full-page screenshot as tests/artifacts/ui/NAME.png. */
export async function shot(page: Page, name: string): Promise<void> {
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

interface AxeResult {
  violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[];
}

/** Run axe-core (WCAG 2.1 A/AA and best practices) and fail on serious or critical violations. */
export async function assertAccessible(page: Page, name: string): Promise<void> {
  const loaded = await page.evaluate(() => typeof (globalThis as { axe?: unknown }).axe !== "undefined");
  // Evaluated through the DevTools protocol, so the page's strict CSP stays on.
  if (!loaded) await page.evaluate((axe as unknown as { source: string }).source);
  const result = await page.evaluate(() =>
    (globalThis as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<unknown> } }).axe.run(
      document,
      {
        runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
      },
    )
  ) as AxeResult;
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(
    bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`),
    [],
    `accessibility violations on ${name}`,
  );
}

declare const document: unknown;

/** JavaScript bytes (decoded) the current document loaded: its module scripts and their chunks. */
export async function pageScriptBytes(page: Page): Promise<number> {
  return await page.evaluate(() =>
    (globalThis as unknown as {
      performance: { getEntriesByType(t: string): { name: string; decodedBodySize: number }[] };
    })
      .performance.getEntriesByType("resource").filter((e) => /\.js$/.test(e.name))
      .reduce((n, e) => n + e.decodedBodySize, 0)
  );
}
