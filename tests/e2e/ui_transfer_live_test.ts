// A transfer on the Live page in real headless Chromium, fed by a real call: the real appliance
// (`startAppliance`, the pipeline on the provisioned engines), staff log in in Chromium and open /live; the
// practice puts callers through to extension 21 (during and outside the hours). A browser-protocol test
// call speaks one utterance (espeak-ng German, at real time; the synthetic whisper model transcribes it to
// gibberish, which is all the summary needs) and presses 0 after TOM's answer: TOM says "ich verbinde Sie",
// the test call's simulated transfer rings (4 s here), and the Live page shows the alert with the caller
// ("Anrufer unbekannt": a browser call has no number), the German reason and the summary (what the caller
// said, as transcribed) while the transfer is still ringing, before the simulated person answers; then the
// transfer connects and the test call ends. A second page on /requests (the inbox) shows the notice
// "Anrufer wird verbunden – {caller} – {reason} – „{summary}“" while it rings, too, and drops it when the
// call ends.
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../infra/config.ts";
import { startAppliance } from "../../app/serve.ts";
import { hmacKey, mintCallToken } from "../../gateway/auth/token.ts";
import { TRANSFERRED_REASON } from "../../gateway/browser/simulated_transfer.ts";
import { defaultPractice, listAccounts, putPractice } from "../../store/mod.ts";
import { freePort } from "../_helpers.ts";
import { pcmBytes, TestClient } from "../gateway/server_harness.ts";
import { speak } from "../_rigs/caller_speech.ts";
import { createTts, synthesizeAll } from "../../pipeline/mod.ts";
import { ENGINES_DIR } from "../infra/fixtures/engines.ts";
import { ENGINES_MISSING } from "./pipeline_engines.ts";
import { assertAccessible, launch, shot, skipBrowser } from "./ui_browser_harness.ts";
import { PASSWORD } from "../ui/_harness.ts";

const SECRET = "live-transfer-test-secret-0123456789-abc";
const RING_MS = 4_000;
const ci = Deno.env.get("CI") === "true";
if (ENGINES_MISSING && !ci) console.error(`skipping the Live transfer test: ${ENGINES_MISSING}`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test({
  name:
    "the Live page shows a test call's transfer (DTMF 0) with its German reason before the person answers",
  ignore: skipBrowser || (ENGINES_MISSING !== undefined && !ci),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tom-live-transfer-e2e-" });
    const config = loadConfig({
      env: {
        HOME: dir,
        TOM_DATA_DIR: join(dir, "data"),
        TOM_ENGINES_DIR: ENGINES_DIR,
        TOM_HTTP_PORT: String(freePort()),
        TOM_AUDIOSOCKET_PORT: String(freePort()),
        TOM_STT_URL: `http://127.0.0.1:${freePort()}`,
        TOM_LLM_URL: `http://127.0.0.1:${freePort()}`,
        TOM_PIPELINE_STT_TIMEOUT_MS: "180000",
        TOM_PIPELINE_LLM_TIMEOUT_MS: "30000",
        TOM_PIPELINE_TTS_TIMEOUT_MS: "30000",
        TOM_PIPELINE_MAX_TOKENS: "24",
        TOM_RL_ANALYSIS: "false",
        TOM_JWT_SECRET: SECRET,
        TOM_LOG_LEVEL: "error",
        TOM_GATEWAY_TEST_TRANSFER_RING_MS: String(RING_MS),
      },
      cwd: dir,
    });
    const t0 = performance.now();
    const app = await startAppliance(config);
    const tts = await createTts(config.tts);
    assert.ok(tts);
    const utterance = await synthesizeAll(
      tts,
      "Ich habe eine Frage zu meinem Befund.",
      AbortSignal.timeout(60_000),
    );
    assert.ok(utterance && utterance.length > 16_000, "espeak-ng spoke the caller's words");
    const base = `http://127.0.0.1:${app.addr.port}`;
    const browser = await launch();
    try {
      for (const end = Date.now() + 240_000;;) {
        const res = await fetch(`${base}/readyz`);
        await res.body?.cancel();
        if (res.status === 200) break;
        assert.ok(Date.now() < end, "the engines did not get ready");
        await sleep(500);
      }
      await app.ui.assets.ready();
      console.log(`appliance ready after ${Math.round(performance.now() - t0)} ms`);

      const context = await browser.newContext({ locale: "de-DE", viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(base + "/setup");
      const code = (await Deno.readTextFile(join(config.dataDir, "secrets", "setup.code"))).trim();
      await page.getByLabel("Einrichtungscode").fill(code);
      await page.getByLabel("Name der Praxis oder des Haushalts").fill("Praxis Weiter");
      await page.getByLabel("Art des Kontos").selectOption("clinical");
      await page.getByLabel("Ihr Name").fill("Anna Admin");
      await page.getByLabel("E-Mail-Adresse").fill("anna@praxis.test");
      await page.getByLabel("Passwort", { exact: true }).fill(PASSWORD);
      await page.getByLabel("Passwort wiederholen").fill(PASSWORD);
      await page.getByRole("button", { name: "Einrichten" }).click();
      await page.waitForURL(/\/login/);
      await page.getByLabel("E-Mail-Adresse").fill("anna@praxis.test");
      await page.getByLabel("Passwort").fill(PASSWORD);
      await page.getByRole("button", { name: "Anmelden" }).click();
      await page.waitForURL(base + "/");

      // The practice's transfer target: the reception's extension 21, during and outside the hours (so the
      // test does not depend on the clock).
      const accountId = listAccounts(app.store)[0].id;
      const ext = { kind: "extension" as const, target: "21" };
      putPractice(
        app.store,
        accountId,
        { ...defaultPractice("Praxis Weiter"), transfer: { duringHours: ext, afterHours: ext } },
        null,
      );

      await page.goto(base + "/live");
      await page.getByRole("status").filter({ hasText: "Verbunden" }).waitFor({ timeout: 20_000 });
      await page.getByText("Gerade läuft kein Anruf.").waitFor();
      const inbox = await context.newPage();
      inbox.on("pageerror", (e) => errors.push(`inbox: ${String(e)}`));
      const inboxStream = inbox.waitForResponse((r) => r.url().endsWith("/api/live/inbox"));
      await inbox.goto(base + "/requests");
      assert.equal((await inboxStream).status(), 200);
      const log = page.getByRole("log");
      const line = (callId: string, what: string) =>
        log.locator("li", { hasText: new RegExp(`${callId.slice(0, 8)} ${what}`) }).first();

      const callId = crypto.randomUUID();
      const token = await mintCallToken(hmacKey(SECRET), { callId });
      const ws = new TestClient(`${base.replace("http", "ws")}/ws/stream/${callId}?token=${token}`);
      const at: Record<string, number> = {};
      ws.socket.addEventListener("message", (m) => {
        if (typeof m.data !== "string") return;
        const e = JSON.parse(m.data) as { type: string; outcome?: string };
        const key = e.type === "transfer" ? `transfer_${e.outcome}` : e.type;
        at[key] ??= performance.now();
      });
      try {
        await ws.event("connected");
        ws.send({ type: "start" });
        await ws.event("streaming_started");
        await line(callId, "connected").filter({ hasText: "transport=browser" }).waitFor({ timeout: 20_000 });
        await ws.until(() => ws.events.some((e) => e.type === "mark"), "the greeting played", 60_000);
        // The caller says something first: that is the summary staff see.
        await speak((f) => ws.send(pcmBytes(f)), utterance, 1_500);
        const heard = await ws.event("stt_final", 200_000);
        const said = String(heard.text ?? "").trim();
        assert.ok(said !== "", "the synthetic whisper model transcribed something");
        await ws.until(() => ws.events.some((e) => e.type === "turn_end"), "TOM's answer", 180_000);
        const pressed = performance.now();
        ws.send({ type: "dtmf", digit: "0" });

        const started = await ws.event("transfer", 30_000);
        assert.equal(started.outcome, "started");
        assert.equal(started.reason, "dtmf_0");
        assert.equal(started.targetKind, "extension");
        const summary = String(started.summary ?? "");
        assert.equal(summary, said.slice(0, 500), "the summary is what the caller said");
        const snippet = summary.slice(0, 30);
        const alert = page.getByTestId("live-alerts");
        await alert.filter({
          hasText:
            "Anrufer wird verbunden: Anrufer unbekannt (keine Rufnummer übermittelt) – hat die Null gedrückt",
        }).filter({ hasText: `„${snippet}` }).waitFor({ timeout: 15_000 });
        const shown = performance.now();
        const notice = inbox.getByTestId("transfer-notice");
        await notice.filter({
          hasText:
            "Anrufer wird verbunden – Anrufer unbekannt (keine Rufnummer übermittelt) – hat die Null gedrückt",
        }).filter({ hasText: `„${snippet}` }).waitFor({ timeout: 15_000 });
        const noticed = performance.now();
        assert.equal(await inbox.getByTestId("transfer-notices").getAttribute("role"), "status");
        // The alert is up while the simulated person's phone still rings: no `connected`, no call end yet.
        assert.equal(
          ws.events.some((e) => e.type === "transfer" && e.outcome !== "started"),
          false,
          `the transfer already ended before the alert showed: ${JSON.stringify(ws.events.slice(-5))}`,
        );
        assert.equal(ws.events.some((e) => e.type === "call_end"), false);
        assert.equal(await alert.getAttribute("role"), "alert");
        await shot(page, "33-live-transfer-ringing");
        await assertAccessible(page, "live with a transfer alert");

        const ringing = await ws.event("transfer_ringing");
        assert.deepEqual(ringing, {
          type: "transfer_ringing",
          kind: "extension",
          target: "21",
          ringMs: RING_MS,
          simulated: true,
        });
        await ws.until(
          () => ws.events.some((e) => e.type === "transfer" && e.outcome === "connected"),
          "the simulated person answered",
          RING_MS + 10_000,
        );
        const end = await ws.event("call_end", 10_000);
        assert.equal(end.reason, TRANSFERRED_REASON);
        assert.ok(at.transfer_started <= at.transfer_ringing && at.transfer_ringing <= at.transfer_connected);
        assert.ok(at.transfer_connected <= at.call_end);
        assert.ok(shown < at.transfer_connected, "the alert showed before the person answered");
        assert.ok(noticed < at.transfer_connected, "the inbox's notice showed before the person answered");
        console.log(
          `DTMF 0 -> transfer started ${
            Math.round(at.transfer_started - pressed)
          } ms, alert on the Live page ` +
            `${Math.round(shown - pressed)} ms, notice on /requests ${
              Math.round(noticed - pressed)
            } ms, connected ${Math.round(at.transfer_connected - pressed)} ms, ` +
            `call_end ${Math.round(at.call_end - pressed)} ms (ringing ${RING_MS} ms)`,
        );
      } finally {
        await ws.close();
      }
      await line(callId, "transfer .*outcome=connected").waitFor({ timeout: 10_000 });
      await line(callId, "call_end").waitFor({ timeout: 10_000 });
      await page.getByText("Gerade läuft kein Anruf.").waitFor({ timeout: 10_000 });
      // The alert stays for staff after the call.
      assert.match(await page.getByTestId("live-alerts").textContent() ?? "", /hat die Null gedrückt/);
      const all = await page.locator("main").textContent() ?? "";
      assert.doesNotMatch(all, /\+49/, "no phone number on the page");
      await shot(page, "34-live-transfer-ended");
      // The inbox's notice goes with the call.
      await inbox.getByTestId("transfer-notice").waitFor({ state: "detached", timeout: 10_000 });
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await app.shutdown("test over");
      await Deno.remove(dir, { recursive: true });
    }
  },
});
