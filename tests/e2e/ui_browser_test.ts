// The admin UI in real headless Chromium: first-run setup, login, create a senior, find them in the
// list and on the dashboard, open the detail, export, erase; axe-core on every page; screenshots.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  completeAnalysis,
  createCall,
  endCall,
  enqueueAnalysis,
  listAccounts,
  listAudit,
  markCallAnswered,
} from "../../store/mod.ts";
import {
  ARTIFACTS,
  assertAccessible,
  launch,
  pageScriptBytes,
  serve,
  shot,
  skipBrowser,
} from "./ui_browser_harness.ts";
import { PASSWORD, setupCode } from "../ui/_harness.ts";

Deno.test({
  name: "a new practice sets up TOM, adds a senior, finds, exports and erases them in the browser",
  ignore: skipBrowser,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const srv = await serve();
    const browser = await launch();
    const jsPerPage: Record<string, number> = {};
    try {
      const context = await browser.newContext({
        acceptDownloads: true,
        locale: "de-DE",
        viewport: { width: 1280, height: 900 },
      });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      page.on("console", (m) => {
        // A form answered 422 (validation) is expected; anything else is a bug.
        if (m.type() === "error" && !/status of 422/.test(m.text())) errors.push(m.text());
      });
      const visit = async (name: string) => {
        await page.waitForLoadState("networkidle");
        await assertAccessible(page, name);
        await shot(page, name);
        jsPerPage[new URL(page.url()).pathname.replace(/[0-9a-f-]{36}/, ":id")] = await pageScriptBytes(page);
      };

      await page.goto(srv.url + "/");
      assert.equal(new URL(page.url()).pathname, "/setup");
      await visit("01-setup");
      await page.getByLabel("Einrichtungscode").fill(setupCode(srv.t));
      await page.getByLabel("Name der Praxis oder des Haushalts").fill("Familie Beispiel");
      await page.getByLabel("Art des Kontos").selectOption("private");
      await page.getByLabel("Ihr Name").fill("Anna Admin");
      await page.getByLabel("E-Mail-Adresse").fill("anna@beispiel.test");
      await page.getByLabel("Passwort", { exact: true }).fill(PASSWORD);
      await page.getByLabel("Passwort wiederholen").fill(PASSWORD);
      await page.getByRole("button", { name: "Einrichten" }).click();

      await page.waitForURL(/\/login/);
      await page.getByText("Einrichtung abgeschlossen").waitFor();
      await visit("02-login");
      await page.getByLabel("E-Mail-Adresse").fill("anna@beispiel.test");
      await page.getByLabel("Passwort").fill(PASSWORD);
      await page.getByRole("button", { name: "Anmelden" }).click();
      await page.waitForURL(srv.url + "/");
      await visit("03-dashboard-empty");

      await page.getByRole("link", { name: "Personen" }).first().click();
      await page.getByRole("link", { name: "Person anlegen" }).click();
      await page.getByLabel("Name").fill("Erna Beispiel");
      await page.getByLabel("Telefonnummer").fill("030 1234");
      await page.getByRole("button", { name: "Speichern" }).click();
      await page.getByText("im Format +49").first().waitFor();
      await visit("04-new-person-error");
      await page.getByLabel("Telefonnummer").fill("+49 30 1234567");
      await page.getByLabel("Einwilligung in Gesprächsprotokoll").check();
      await page.getByLabel("Aufbewahrung in Tagen").fill("30");
      await page.getByRole("button", { name: "Speichern" }).click();
      await page.getByRole("heading", { name: "Erna Beispiel" }).waitFor();
      await page.getByText("Angelegt.").waitFor();
      const personId = new URL(page.url()).pathname.split("/")[2];
      await visit("05-person-detail");

      // A call with an analysis, so the dashboard chart has a point to hydrate.
      const accountId = listAccounts(srv.t.store)[0].id;
      const call = createCall(srv.t.store, accountId, {
        direction: "outbound",
        transport: "freeswitch",
        personId,
        startedAt: Date.now() - 120_000,
      });
      markCallAnswered(srv.t.store, accountId, call.id, Date.now() - 110_000);
      endCall(srv.t.store, accountId, call.id, { status: "completed" });
      enqueueAnalysis(srv.t.store, accountId, call.id);
      completeAnalysis(srv.t.store, accountId, call.id, {
        sentimentLabel: "positiv",
        sentimentScore: 0.5,
        confidence: 0.8,
        reason: "froh",
        summary: [],
      });

      await page.getByRole("link", { name: "Personen" }).first().click();
      await page.getByLabel("Name oder Telefonnummer").fill("erna");
      await page.getByRole("button", { name: "Suchen" }).click();
      await page.getByRole("cell", { name: "Erna Beispiel" }).waitFor();
      await visit("06-people-list");

      await page.getByRole("link", { name: "Übersicht" }).click();
      await page.getByTestId("recent-people").getByText("Erna Beispiel").waitFor();
      assert.equal(await page.getByTestId("stat-people").locator(".v").textContent(), "1");
      // The chart island is hydrated: keyboard focus on a point shows its value.
      await page.locator("figure.chart circle").first().focus();
      await page.locator("figure.chart .tip").filter({ hasText: "+0,50" }).waitFor();
      await visit("07-dashboard");

      await page.getByTestId("recent-people").getByRole("link", { name: "Erna Beispiel" }).click();
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.getByTestId("export").click(),
      ]);
      const file = join(ARTIFACTS, "export-erna.json");
      await download.saveAs(file);
      const exported = JSON.parse(await Deno.readTextFile(file));
      assert.equal(exported.person.displayName, "Erna Beispiel");
      assert.equal(exported.calls.length, 1);

      await page.getByRole("link", { name: "Person löschen" }).click();
      await visit("08-erase");
      await page.getByLabel("Zur Bestätigung den Namen der Person eintippen").fill("Erna Beispiel");
      await page.getByRole("button", { name: "Endgültig löschen" }).click();
      await page.getByText("Die Person und alle personenbezogenen Daten wurden gelöscht.").waitFor();
      await page.getByText("Keine Personen gefunden.").waitFor();
      await visit("09-after-erase");

      for (
        const [path, name] of [
          ["/calls", "10-calls"],
          [`/calls/${call.id}`, "11-call"],
          ["/live", "12-live"],
          ["/schedules", "13-schedules"],
          ["/settings", "14-settings"],
          ["/users", "15-users"],
          ["/audit", "16-audit"],
          ["/system", "17-system"],
          ["/api", "18-api-docs"],
          ["/test-call", "19-test-call"],
          ["/learning", "20-learning"],
          ["/practice", "21-practice"],
          ["/requests", "22-requests"],
        ] as const
      ) {
        await page.goto(srv.url + path);
        await visit(name);
      }
      const actions = listAudit(srv.t.store, accountId).map((a) => a.action);
      for (const a of ["person.create", "person.view", "person.export", "person.erase"]) {
        assert.ok(actions.includes(a), a);
      }
      assert.deepEqual(errors, []);
      await Deno.writeTextFile(join(ARTIFACTS, "js_per_page.json"), JSON.stringify(jsPerPage, null, 2));
    } finally {
      await browser.close();
      await srv.close();
    }
  },
});
