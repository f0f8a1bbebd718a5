// The test-call page in real headless Chromium with a fake microphone (an espeak-ng WAV): it connects
// to the real /ws/stream route of the gateway (with its diagnostic echo answerer until the pipeline is
// mounted), streams 16 kHz PCM from the AudioWorklet, shows TOM's events and plays TOM's audio.
import assert from "node:assert/strict";
import { join } from "node:path";
import { CallRegistry } from "../../infra/call_registry.ts";
import { mountGateway } from "../../gateway/server.ts";
import { echoAnswerer } from "../../gateway/call/echo.ts";
import { listAccounts, listCalls } from "../../store/mod.ts";
import { setupAndLogin } from "../ui/_harness.ts";
import { assertAccessible, launch, serve, shot, skipBrowser } from "./ui_browser_harness.ts";

async function have(cmd: string): Promise<boolean> {
  try {
    return (await new Deno.Command(cmd, { args: ["--version"], stdout: "null", stderr: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

const toolsMissing = !(await have("espeak-ng")) || !(await have("sox"));
const skip = skipBrowser || (toolsMissing && Deno.env.get("CI") !== "true");
if (toolsMissing && !skipBrowser) {
  console.error("skipping the test-call browser test: espeak-ng or sox missing (deno task engines)");
}

/** German speech from espeak-ng, as 48 kHz 16-bit mono WAV (what a microphone would deliver). */
async function speechWav(dir: string): Promise<string> {
  const raw = join(dir, "speech-22k.wav");
  const out = join(dir, "speech-48k.wav");
  const say = await new Deno.Command("espeak-ng", {
    args: ["-v", "de", "-s", "140", "-w", raw, "Hallo TOM. Wie geht es dir heute? Ich möchte einen Termin."],
  }).output();
  assert.ok(say.success, "espeak-ng failed");
  const conv = await new Deno.Command("sox", { args: [raw, "-r", "48000", "-c", "1", "-b", "16", out] })
    .output();
  assert.ok(conv.success, "sox failed");
  return out;
}

Deno.test({
  name: "the test-call page streams the fake microphone to /ws/stream and shows TOM's events and audio",
  ignore: skip,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tom-testcall-" });
    const calls = new CallRegistry();
    const srv = await serve({
      mount: async (t) => {
        const gw = await mountGateway(t.app, {
          config: (await import("../../infra/config.ts")).loadConfig({
            env: { TOM_DATA_DIR: t.dataDir },
            cwd: t.dataDir,
          }),
          store: t.store,
          log: t.log,
          meter: (await import("../../infra/telemetry.ts")).initTelemetry("test").meter,
          calls,
          answer: echoAnswerer(),
        });
        return () => gw.close();
      },
    });
    const wav = await speechWav(dir);
    const browser = await launch([
      "--use-fake-ui-for-media-stream",
      "--use-fake-device-for-media-stream",
      `--use-file-for-fake-audio-capture=${wav}`,
      "--autoplay-policy=no-user-gesture-required",
    ]);
    try {
      const c = await setupAndLogin(srv.t);
      const context = await browser.newContext({ locale: "de-DE", viewport: { width: 1280, height: 900 } });
      await context.grantPermissions(["microphone"], { origin: srv.url });
      await context.addCookies([...c.cookies].map(([name, value]) => ({ name, value, url: srv.url })));
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(srv.url + "/test-call");
      await page.waitForLoadState("networkidle");
      await assertAccessible(page, "test-call");
      await page.getByRole("button", { name: "Testanruf starten" }).click();
      const log = page.getByTestId("event-log");
      await log.getByText(/connected/).waitFor({ timeout: 20_000 });
      await log.getByText(/streaming_started/).waitFor({ timeout: 20_000 });
      await page.getByTestId("call-state").filter({ hasText: "Verbunden" }).waitFor();
      // The fake microphone is heard (level meter) and TOM's audio arrives and is played.
      await page.waitForFunction(
        () => {
          const m =
            (globalThis as unknown as { document: { getElementById(id: string): { value: number } | null } })
              .document
              .getElementById("mic-level");
          return (m?.value ?? 0) > 0.01;
        },
        undefined,
        { timeout: 20_000 },
      );
      await page.waitForFunction(
        () => {
          const el = (globalThis as unknown as {
            document: { querySelector(s: string): { textContent: string } | null };
          }).document
            .querySelector('[data-testid="rx-audio"]');
          return parseFloat((el?.textContent ?? "0").replace(",", ".")) >= 1.5;
        },
        undefined,
        { timeout: 30_000 },
      );
      await shot(page, "20-test-call-live");
      await page.getByRole("button", { name: "Auflegen" }).click();
      await log.getByText(/call_end|close 1000/).first().waitFor({ timeout: 10_000 });
      await page.getByTestId("call-state").filter({ hasText: "Beendet" }).waitFor();
      await shot(page, "21-test-call-ended");
      const accountId = listAccounts(srv.t.store)[0].id;
      const browserCalls = listCalls(srv.t.store, accountId).filter((x) => x.transport === "browser");
      assert.equal(browserCalls.length, 1, "the gateway recorded the browser call");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await srv.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
