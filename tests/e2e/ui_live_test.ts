// The Live page in real headless Chromium, fed by real calls: the real appliance (`startAppliance`, the
// pipeline on the provisioned whisper-server, llama-server, espeak-ng and Silero), staff set up TOM and
// log in in Chromium and open /live; then one call over the browser protocol (WS /ws/stream/:callId with
// a JWT) and one over AudioSocket (TCP) run. The page shows each call appearing, its pipeline events and
// its end; spoken text only for the caller who consented to transcripts (the browser call's person),
// none for the unknown AudioSocket caller.
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../infra/config.ts";
import { startAppliance } from "../../app/serve.ts";
import { hmacKey, mintCallToken } from "../../gateway/auth/token.ts";
import { speak } from "../_rigs/caller_speech.ts";
import { createTts } from "../../pipeline/engines/tts.ts";
import { synthesizeAll } from "../../pipeline/phrases.ts";
import { createCall, createPerson, listAccounts, listCalls } from "../../store/mod.ts";
import { freePort } from "../_helpers.ts";
import { pcmBytes, TestClient } from "../gateway/server_harness.ts";
import { FakeAsterisk, msg } from "../gateway/asterisk/audiosocket_client.ts";
import { ENGINES_DIR } from "../infra/fixtures/engines.ts";
import { ENGINES_MISSING } from "./pipeline_engines.ts";
import { assertAccessible, launch, shot, skipBrowser } from "./ui_browser_harness.ts";
import { PASSWORD } from "../ui/_harness.ts";

const SECRET = "live-page-test-secret-0123456789-abcdef";
const UUID = "6f1c2d3e-4b5a-4c6d-8e7f-0123456789ab";
const ci = Deno.env.get("CI") === "true";
if (ENGINES_MISSING && !ci) console.error(`skipping the Live page test: ${ENGINES_MISSING}`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test({
  name: "the Live page shows real browser and AudioSocket calls appearing, their events and their end",
  ignore: skipBrowser || (ENGINES_MISSING !== undefined && !ci),
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "tom-live-e2e-" });
    const config = loadConfig({
      env: {
        HOME: dir,
        TOM_DATA_DIR: join(dir, "data"),
        TOM_ENGINES_DIR: ENGINES_DIR,
        TOM_HTTP_PORT: String(freePort()),
        TOM_AUDIOSOCKET_PORT: String(freePort()),
        TOM_STT_URL: `http://127.0.0.1:${freePort()}`,
        TOM_LLM_URL: `http://127.0.0.1:${freePort()}`,
        // The synthetic whisper model decodes up to its token limit: tens of seconds on a shared CPU.
        TOM_PIPELINE_STT_TIMEOUT_MS: "180000",
        TOM_PIPELINE_LLM_TIMEOUT_MS: "30000",
        TOM_PIPELINE_TTS_TIMEOUT_MS: "30000",
        // A short answer: the synthetic LLM on a CPU needs ~1 s a token, and the page waits for the turn's end.
        TOM_PIPELINE_MAX_TOKENS: "24",
        TOM_RL_ANALYSIS: "false",
        TOM_JWT_SECRET: SECRET,
        TOM_LOG_LEVEL: "error",
      },
      cwd: dir,
    });
    const app = await startAppliance(config);
    const base = `http://127.0.0.1:${app.addr.port}`;
    const tts = await createTts(config.tts);
    const browser = await launch();
    try {
      assert.ok(tts);
      const utterance = await synthesizeAll(
        tts,
        "Guten Tag, ich hätte gern einen Termin.",
        AbortSignal.timeout(60_000),
      );
      assert.ok(utterance && utterance.length > 16_000, "espeak-ng spoke the caller's words");
      // The engines start in the background.
      for (const end = Date.now() + 240_000;;) {
        const res = await fetch(`${base}/readyz`);
        await res.body?.cancel();
        if (res.status === 200) break;
        assert.ok(Date.now() < end, "the engines did not get ready");
        await sleep(500);
      }
      await app.ui.assets.ready();

      // Staff set TOM up and log in, in Chromium, and open the Live page.
      const context = await browser.newContext({ locale: "de-DE", viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(base + "/setup");
      const code = (await Deno.readTextFile(join(config.dataDir, "secrets", "setup.code"))).trim();
      await page.getByLabel("Einrichtungscode").fill(code);
      await page.getByLabel("Name der Praxis oder des Haushalts").fill("Praxis Live");
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
      await page.goto(base + "/live");
      await page.getByRole("status").filter({ hasText: "Verbunden" }).waitFor({ timeout: 20_000 });
      await page.getByText("Gerade läuft kein Anruf.").waitFor();
      await assertAccessible(page, "live");
      const log = page.getByRole("log");
      const line = (callId: string, what: string) =>
        log.locator("li", { hasText: new RegExp(`${callId.slice(0, 8)} ${what}`) }).first();
      const listed = (callId: string) => page.locator(`a[href="/calls/${callId}"]`);

      // 1. A browser call of a person who consented to transcripts (the call's row names the person, as for
      //    a call TOM placed itself).
      const accountId = listAccounts(app.store)[0].id;
      const erna = createPerson(app.store, accountId, {
        kind: "patient",
        displayName: "Erna Live",
        phoneE164: "+4930123456",
        consentTranscript: true,
      });
      const callId = crypto.randomUUID();
      createCall(app.store, accountId, {
        id: callId,
        direction: "inbound",
        transport: "browser",
        personId: erna.id,
      });
      const token = await mintCallToken(hmacKey(SECRET), { callId });
      const ws = new TestClient(`ws://127.0.0.1:${app.addr.port}/ws/stream/${callId}?token=${token}`);
      try {
        await ws.event("connected");
        ws.send({ type: "start" });
        await ws.event("streaming_started");
        await listed(callId).filter({ hasText: "Erna Live" }).waitFor({ timeout: 20_000 });
        await line(callId, "connected").filter({ hasText: "transport=browser" }).waitFor();
        // TOM greets; its sentence shows (the caller consented), its audio does not travel to the page.
        await line(callId, "tts_audio „").waitFor({ timeout: 60_000 });
        await ws.until(() => ws.events.some((e) => e.type === "mark"), "the greeting played", 60_000);
        await speak((f) => ws.send(pcmBytes(f)), utterance, 1_500);
        await line(callId, "vad state=speech_start").waitFor({ timeout: 20_000 });
        await line(callId, "stt_final „").waitFor({ timeout: 200_000 });
        await line(callId, "llm_token „").waitFor({ timeout: 60_000 });
        await line(callId, "turn_end").waitFor({ timeout: 180_000 });
        await shot(page, "30-live-browser-call");
        ws.send({ type: "stop" });
        await ws.until(() => ws.events.some((e) => e.type === "call_end"), "call_end", 10_000);
      } finally {
        await ws.close();
      }
      await line(callId, "call_end").filter({ hasText: "status=completed" }).waitFor({ timeout: 10_000 });
      await listed(callId).waitFor({ state: "detached", timeout: 10_000 });

      // 2. An AudioSocket call from Asterisk: an unknown caller, so no spoken text on the page.
      const ast = await FakeAsterisk.connect(config.audiosocket.port);
      let astCallId = "";
      try {
        await ast.send(msg.uuid(UUID));
        for (const end = Date.now() + 10_000; !astCallId; await sleep(50)) {
          astCallId = listCalls(app.store, accountId).find((c) => c.externalId === UUID)?.id ?? "";
          assert.ok(astCallId || Date.now() < end, "the AudioSocket call was not recorded");
        }
        await listed(astCallId).filter({ hasText: "Unbekannt" }).waitFor({ timeout: 20_000 });
        await line(astCallId, "connected").filter({ hasText: "transport=audiosocket" }).waitFor();
        await line(astCallId, "tts_audio").waitFor({ timeout: 60_000 });
        await speak((f) => ast.send(msg.audio(0x12, f)), utterance, 1_000);
        await line(astCallId, "vad state=speech_start").waitFor({ timeout: 20_000 });
        await shot(page, "31-live-audiosocket-call");
      } finally {
        await ast.send(msg.hangup()); // Asterisk hangs up
        await Promise.race([ast.closed, sleep(10_000)]);
      }
      await line(astCallId, "call_end").waitFor({ timeout: 10_000 });
      await listed(astCallId).waitFor({ state: "detached", timeout: 10_000 });
      await page.getByText("Gerade läuft kein Anruf.").waitFor();
      const astLines = await log.locator("li", { hasText: astCallId.slice(0, 8) }).allTextContents();
      assert.ok(astLines.length >= 4, astLines.join("\n"));
      assert.ok(
        astLines.every((l) => !l.includes("„")),
        `no spoken text without consent:\n${astLines.join("\n")}`,
      );
      const all = await log.textContent() ?? "";
      assert.doesNotMatch(all, /30123456|\+49/, "no phone number on the page");
      await shot(page, "32-live-calls-ended");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await tts?.close?.();
      await app.shutdown("test over");
      await Deno.remove(dir, { recursive: true });
    }
  },
});
