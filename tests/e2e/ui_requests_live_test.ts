// "Anliegen" in real headless Chromium: staff have /requests open; a request is stored (createRequest)
// and announced through the UiHandle's requestNoted, exactly as the appliance does when a call notes
// one; the navigation's open count and a new row appear without a reload. A PATCH by a colleague (done)
// lowers the count live. axe-core on the page with the new row.
import assert from "node:assert/strict";
import { join } from "node:path";
import { createRequest, listAccounts } from "../../store/mod.ts";
import { TranscriptKeyring } from "../../store/crypto/mod.ts";
import { dateTime } from "../../ui/mod.ts";
import { assertAccessible, launch, serve, shot, skipBrowser } from "./ui_browser_harness.ts";
import { PASSWORD, setupCode } from "../ui/_harness.ts";

Deno.test({
  name: "a request noted during a call shows on the open /requests page without a reload",
  ignore: skipBrowser,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const srv = await serve();
    const browser = await launch();
    try {
      const context = await browser.newContext({ locale: "de-DE", viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      await page.goto(srv.url + "/setup");
      await page.getByLabel("Einrichtungscode").fill(setupCode(srv.t));
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
      await page.waitForURL(srv.url + "/");

      await page.goto(srv.url + "/requests");
      // The open event stream does not keep the page from "network idle" (the other page tests wait for it).
      await page.waitForLoadState("networkidle", { timeout: 8_000 });
      const badge = page.getByTestId("requests-badge");
      assert.equal((await badge.textContent())?.trim(), "0 offen");
      await page.getByTestId("requests-empty").waitFor();
      // The page is hydrated and subscribed before the request arrives.
      for (const end = Date.now() + 20_000; srv.t.ui.inbox.subscribers < 1;) {
        assert.ok(Date.now() < end, "the page did not subscribe to the inbox");
        await new Promise((r) => setTimeout(r, 50));
      }
      let navigations = 0;
      page.on("framenavigated", (f) => f === page.mainFrame() && navigations++);

      // What the appliance does when a call noted a request: store it, then tell the UI.
      const accountId = listAccounts(srv.t.store)[0].id;
      const keyring = await TranscriptKeyring.open(join(srv.t.dataDir, "secrets", "transcripts.key"));
      const r = await createRequest(srv.t.store, keyring, accountId, {
        callId: null,
        kind: "callback",
        urgency: "urgent",
        callerName: "Hildegard Zwiebelmeier",
        callbackNumber: "+4917099887766",
        forWhom: "",
        preferredTimes: "vormittags",
        medication: "",
        summary: "Bitte um Rückruf wegen Befund",
        source: "call",
      });
      srv.t.ui.requestNoted(accountId, { id: r.id, kind: r.kind, urgency: r.urgency });

      await page.locator(`[data-testid="requests-new"] tr[data-request="${r.id}"]`).waitFor({
        timeout: 20_000,
      });
      await page.getByTestId("requests-badge").filter({ hasText: "1" }).waitFor({ timeout: 20_000 });
      const row = page.locator(`tr[data-request="${r.id}"]`);
      assert.match(await row.innerText(), /Rückruf \(dringend\)/);
      assert.match(await row.innerText(), /Hildegard Zwiebelmeier/, "fetched from the API with the session");
      assert.equal(await row.getByRole("link").getAttribute("href"), `/requests/${r.id}`);
      assert.equal(
        await row.getByRole("link").innerText(),
        dateTime(r.createdAt),
        "the server's date format",
      );
      assert.equal(navigations, 0, "no reload");
      await assertAccessible(page, "requests-live");
      await shot(page, "requests-live");

      // A colleague marks it done through the API: the count goes down live.
      const csrf = await page.locator('input[name="_csrf"]').first().getAttribute("value");
      const res = await page.request.fetch(`${srv.url}/api/requests/${r.id}`, {
        method: "PATCH",
        data: { status: "done" },
        headers: { "x-csrf-token": csrf ?? "", origin: srv.url },
      });
      assert.equal(res.status(), 200);
      await page.getByTestId("requests-badge").filter({ hasText: "0" }).waitFor({ timeout: 20_000 });
      assert.equal(navigations, 0, "no reload");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await srv.close();
    }
  },
});
