import assert from "node:assert/strict";
import {
  createAccount,
  createCall,
  createUser,
  getVariant,
  listAccounts,
  listAudit,
  listRlDecisions,
  recordReward,
  type Store,
} from "../../store/mod.ts";
import {
  buildReport,
  computeReward,
  DEFAULT_VARIANTS,
  type LearningView,
  mulberry32,
  PolicyBandit,
  RlMetrics,
  syncVariants,
} from "../../rl/mod.ts";
import { hashPassword } from "../../ui/auth/password.ts";
import { score } from "../../ui/format.ts";
import { createHttpApp } from "../../infra/http.ts";
import { loadConfig } from "../../infra/config.ts";
import { createLogger } from "../../infra/log.ts";
import { initTelemetry } from "../../infra/telemetry.ts";
import { mountUi } from "../../app/admin_ui.ts";
import { openStore } from "../../store/mod.ts";
import {
  Client,
  FAKE_DOCTOR,
  ISLANDS_CACHE,
  login,
  PASSWORD,
  setupAndLogin,
  startTestUi,
  type TestUi,
} from "./_harness.ts";
import { assertAccessible, launch, serve, shot, skipBrowser } from "../e2e/ui_browser_harness.ts";

/** The inner text of an element's HTML, whitespace collapsed. */
/** The decision log as the first account (the appliance administrator's) sees it. */
function decisionsOf(store: Store, opts: { limit?: number } = {}) {
  return listRlDecisions(store, listAccounts(store)[0].id, opts);
}

function text(html: string): string {
  return html.replace(/<[^>]+>/g, " ").replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)))
    .replace(/\s+/g, " ").trim();
}

/** The `<table data-testid=...>` of the page. */
function table(html: string, testId: string): string {
  const start = html.indexOf(`<table data-testid="${testId}"`);
  assert.ok(start >= 0, `table ${testId} on the page`);
  return html.slice(start, html.indexOf("</table>", start));
}

/** The row of a table whose `attr` is `value`. */
function row(tableHtml: string, attr: string, value: string): string {
  const start = tableHtml.indexOf(`<tr ${attr}="${value}"`);
  assert.ok(start >= 0, `row ${attr}=${value}`);
  return tableHtml.slice(start, tableHtml.indexOf("</tr>", start));
}

interface Seeded {
  ownCalls: { rated: string; unrated: string };
  otherCall: string;
}

/** Variants, arms (one variant blacklisted by the guard), and rewards of calls of two accounts. */
function seed(store: Store, bandit: PolicyBandit): Seeded {
  const own = listAccounts(store)[0];
  const other = createAccount(store, { name: "Familie Nachbar", kind: "private" });
  for (let i = 0; i < 5; i++) bandit.reward("clinical", "v1a", 0.5);
  for (let i = 0; i < 3; i++) bandit.reward("clinical", "v1b", 0.2);
  for (let i = 0; i < 2; i++) bandit.reward("private", "v1a", 0.8);
  let outcome;
  for (let i = 0; i < 20; i++) outcome = bandit.reward("clinical", "v2a", -1);
  assert.ok(outcome?.blacklisted, "the guard blacklists v2a after 20 rewards of -1");

  const call = (accountId: string, variant: string, context: string, startedAt: number) =>
    createCall(store, accountId, {
      direction: "inbound",
      transport: "freeswitch",
      policyVariantId: variant,
      banditContext: context,
      startedAt,
    }).id;
  const rated = call(own.id, "v1a", "clinical", 1_000);
  const unrated = call(own.id, "v1b", "clinical", 2_000);
  const otherCall = call(other.id, "v1a", "private", 3_000);
  const put = (
    accountId: string,
    callId: string,
    variantId: string,
    context: string,
    rating: number | null,
  ) => {
    const r = computeReward({
      resolution: true,
      rating,
      bargeIns: 1,
      repeats: 0,
      handover: false,
      durationSec: 90,
    });
    assert.ok(recordReward(store, accountId, {
      callId,
      variantId,
      context,
      reward: r.reward,
      components: r.components,
      missing: r.missing,
      rating,
      source: rating === null ? "none" : "dtmf",
      applied: true,
    }));
  };
  put(own.id, rated, "v1a", "clinical", 5);
  put(own.id, unrated, "v1b", "clinical", null);
  put(other.id, otherCall, "v1a", "private", 4);
  return { ownCalls: { rated, unrated }, otherCall };
}

async function seededUi(): Promise<{ t: TestUi; admin: Client; seeded: Seeded }> {
  const t = await startTestUi();
  const admin = await setupAndLogin(t);
  syncVariants(t.store, DEFAULT_VARIANTS);
  const bandit = new PolicyBandit(t.store, {
    baseVariant: DEFAULT_VARIANTS.baseVariant,
    random: mulberry32(7),
  });
  return { t, admin, seeded: seed(t.store, bandit) };
}

Deno.test("learning page shows the report per context, the guard's blacklist and the decision log", async () => {
  const { t, admin } = await seededUi();
  try {
    const { res, html } = await admin.page("/learning");
    assert.equal(res.status, 200);
    assert.match(html, /<a href="\/learning" aria-current="page">Lernen<\/a>/);
    const report = buildReport(t.store, { baseVariant: "v1a" });
    const clinical = table(html, "report-clinical");
    table(html, "report-private");
    // Figures as `tom rl report` computes them, for a base, a new and the blacklisted variant.
    for (const id of ["v1a", "v1b", "v2a"]) {
      const r = report.find((x) => x.context === "clinical" && x.variantId === id);
      assert.ok(r);
      const cells = text(row(clinical, "data-variant", id));
      assert.ok(cells.includes(` ${r.pulls} `), `${id} pulls ${r.pulls} in "${cells}"`);
      assert.ok(cells.includes(score(r.meanReward)), `${id} mean in "${cells}"`);
      assert.ok(cells.includes(`${score(r.ci95[0])} … ${score(r.ci95[1])}`), `${id} interval in "${cells}"`);
    }
    const v1a = text(row(clinical, "data-variant", "v1a"));
    assert.match(v1a, / 5 \+0,50 /);
    assert.match(v1a, /50 %/, "one of the two clinical calls in the window used v1a");
    assert.match(v1a, /Standard/);
    assert.match(text(row(clinical, "data-variant", "v1b")), /neu, wird erprobt/);
    const v2a = text(row(clinical, "data-variant", "v2a"));
    assert.match(v2a, / 20 -1,00 /);
    assert.match(v2a, /gesperrt/);
    assert.match(v2a, /Mittlere Belohnung -1,00 liegt unter -0,20 nach 20 bewerteten Anrufen/);
    assert.match(clinical, /<svg class="ibar"[^>]*role="img" aria-label="95-%-Glaubwürdigkeitsintervall/);

    // The slots in words and the actions each variant offers.
    const variants = table(html, "variants");
    const v2aRow = row(variants, "data-variant", "v2a");
    assert.match(text(v2aRow), /förmlich sachlich kurz offene Fragen normal/);
    assert.match(v2aRow, /name="op" value="reenable"/);
    assert.doesNotMatch(row(variants, "data-variant", "v1b"), /value="reenable"/);

    const decisions = table(html, "decisions");
    const d = text(row(decisions, "data-decision", "blacklist"));
    assert.match(d, /automatisch gesperrt v2a Klinik Mittlere Belohnung -1,00 .* Automatischer Schutz/);
    assert.match(html, /Kennzahlen seit dem Start sind hier nicht verfügbar/);
  } finally {
    await t.close();
  }
});

Deno.test("learning page lists only the own account's rewards, with components and a missing rating", async () => {
  const { t, admin, seeded } = await seededUi();
  try {
    const { html } = await admin.page("/learning");
    const rewards = table(html, "rewards");
    assert.ok(!html.includes(seeded.otherCall), "no call id of the other account on the page");
    const unrated = row(rewards, "data-call", seeded.ownCalls.unrated);
    assert.match(unrated, new RegExp(`href="/calls/${seeded.ownCalls.unrated}"`));
    assert.match(unrated, /<dd data-part="rating">keine Bewertung<\/dd>/);
    assert.match(text(unrated), /Anliegen gelöst \+0,60 Bewertung keine Bewertung Unterbrechungen -0,03/);
    assert.match(text(unrated), /v1b .* keine Bewertung Ja$/);
    const rated = text(row(rewards, "data-call", seeded.ownCalls.rated));
    assert.match(rated, /Bewertung \+0,20/);
    assert.match(rated, /5 \(per Tastatur\)/);
    const expected = computeReward({
      resolution: true,
      rating: 5,
      bargeIns: 1,
      repeats: 0,
      handover: false,
      durationSec: 90,
    });
    assert.ok(rated.includes(` ${score(expected.reward)} `), rated);
    // The call link opens the own call.
    assert.equal((await admin.fetch(`/calls/${seeded.ownCalls.rated}`)).status, 200);
  } finally {
    await t.close();
  }
});

Deno.test("re-enable: an administrator lifts the blacklist, with a decision and an audit entry", async () => {
  const { t, admin } = await seededUi();
  try {
    const { csrf } = await admin.page("/learning");
    const res = await admin.post(
      "/learning",
      { op: "reenable", variant: "v2a", reason: "Prompt korrigiert" },
      csrf,
    );
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/learning?ok=variantReenabled");
    const v = getVariant(t.store, "v2a");
    assert.equal(v?.blacklisted, false);
    assert.equal(v?.enabled, true);
    const [last] = decisionsOf(t.store, { limit: 1 });
    const account = listAccounts(t.store)[0];
    assert.equal(last.kind, "reenable");
    assert.equal(last.variantId, "v2a");
    assert.equal(last.reason, "Prompt korrigiert");
    const audit = listAudit(t.store, account.id).find((a) => a.action === "variant.reenable");
    assert.equal(audit?.subjectId, "v2a");
    assert.equal(audit?.actorUserId, last.actor);
    const { html } = await admin.page("/learning?ok=variantReenabled");
    assert.match(html, /Die Gesprächsstrategie ist wieder freigegeben/);
    assert.match(
      text(row(table(html, "decisions"), "data-decision", "reenable")),
      /Prompt korrigiert Anna Admin/,
    );
    // The audit page names the action in German.
    assert.match(await (await admin.fetch("/audit")).text(), /Gesprächsstrategie wieder freigegeben/);
  } finally {
    await t.close();
  }
});

Deno.test("re-enable of a variant that is not blacklisted shows the error and changes nothing", async () => {
  const { t, admin } = await seededUi();
  try {
    const account = listAccounts(t.store)[0];
    const before = {
      decisions: decisionsOf(t.store).length,
      audit: listAudit(t.store, account.id).length,
    };
    const res = await admin.post("/learning", { op: "reenable", variant: "v1b" });
    assert.equal(res.status, 409);
    const html = await res.text();
    assert.match(html, /role="alert"[^>]*>Diese Gesprächsstrategie ist nicht gesperrt/);
    const unknown = await admin.post("/learning", { op: "reenable", variant: "gibt-es-nicht" });
    assert.equal(unknown.status, 400);
    assert.match(await unknown.text(), /Diese Gesprächsstrategie gibt es nicht/);
    const badOp = await admin.post("/learning", { op: "delete", variant: "v1b" });
    assert.equal(badOp.status, 400);
    const long = await admin.post("/learning", { op: "reenable", variant: "v2a", reason: "x".repeat(501) });
    assert.equal(long.status, 400);
    assert.match(await long.text(), /höchstens 500 Zeichen/);
    assert.equal(decisionsOf(t.store).length, before.decisions);
    assert.equal(listAudit(t.store, account.id).length, before.audit);
    assert.equal(getVariant(t.store, "v1b")?.blacklisted, false);
    assert.equal(getVariant(t.store, "v2a")?.blacklisted, true);
  } finally {
    await t.close();
  }
});

Deno.test("disable and enable take a variant out of rotation and back; a repeat is refused", async () => {
  const { t, admin } = await seededUi();
  try {
    assert.equal((await admin.post("/learning", { op: "disable", variant: "v1b" })).status, 303);
    assert.equal(getVariant(t.store, "v1b")?.enabled, false);
    const again = await admin.post("/learning", { op: "disable", variant: "v1b" });
    assert.equal(again.status, 409);
    assert.match(await again.text(), /bereits deaktiviert/);
    const html = (await admin.page("/learning")).html;
    assert.match(text(row(table(html, "report-clinical"), "data-variant", "v1b")), /deaktiviert/);
    assert.match(row(table(html, "variants"), "data-variant", "v1b"), /value="enable"/);
    assert.equal((await admin.post("/learning", { op: "enable", variant: "v1b" })).status, 303);
    assert.equal(getVariant(t.store, "v1b")?.enabled, true);
    const kinds = decisionsOf(t.store, { limit: 2 }).map((d) => d.kind);
    assert.deepEqual(kinds, ["enable", "disable"]);
    const actions = listAudit(t.store, listAccounts(t.store)[0].id).map((a) => a.action);
    assert.ok(actions.includes("variant.disable") && actions.includes("variant.enable"));
  } finally {
    await t.close();
  }
});

Deno.test("staff and requests without a CSRF token cannot change variants", async () => {
  const { t, admin } = await seededUi();
  try {
    const account = listAccounts(t.store)[0];
    createUser(t.store, account.id, {
      email: "s@praxis.test",
      displayName: "Sam",
      role: "staff",
      passwordHash: await hashPassword(PASSWORD),
    });
    const staff = new Client(t.app);
    await login(staff, "s@praxis.test");
    assert.equal((await staff.fetch("/learning")).status, 403);
    assert.doesNotMatch(await (await staff.fetch("/")).text(), /href="\/learning"/, "no nav entry for staff");
    const { csrf } = await staff.page("/people");
    assert.equal((await staff.post("/learning", { op: "reenable", variant: "v2a" }, csrf)).status, 403);
    assert.equal((await admin.post("/learning", { op: "reenable", variant: "v2a" }, "")).status, 403);
    assert.equal(
      (await admin.post("/learning", { op: "reenable", variant: "v2a" }, "falsches-token")).status,
      403,
    );
    assert.equal(getVariant(t.store, "v2a")?.blacklisted, true);
    assert.equal(decisionsOf(t.store, { limit: 1 })[0].kind, "blacklist");
  } finally {
    await t.close();
  }
});

Deno.test("with the running learning loop the page shows its metrics and a re-enable updates the gauge", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "tom-ui-learning-" });
  const config = loadConfig({ env: { TOM_DATA_DIR: dataDir, TOM_LOG_HASH_SALT: "test-salt" }, cwd: dataDir });
  const log = createLogger({ level: "error", salt: "test-salt", sink: () => {} });
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
  let learning: LearningView | undefined;
  const ui = await mountUi(app, {
    config,
    store,
    log,
    telemetry,
    doctor: () => Promise.resolve(FAKE_DOCTOR),
    islandsCacheDir: ISLANDS_CACHE,
    buildIslands: () => Promise.reject(new Error("islands off in this test")),
    startJobs: false,
    learning: () => learning,
  });
  try {
    await ui.assets.ready();
    const t = { app, store, ui, dataDir } as TestUi;
    const admin = await setupAndLogin(t);
    syncVariants(store, DEFAULT_VARIANTS);
    const metrics = new RlMetrics();
    const bandit = new PolicyBandit(store, { baseVariant: "v1a", random: mulberry32(3), metrics });
    // Started after the UI, as in serve: the page reads it per request.
    learning = { variants: DEFAULT_VARIANTS, metrics };
    seed(store, bandit);
    for (let i = 0; i < 4; i++) bandit.select("clinical");
    metrics.onFeedback("dtmf");
    metrics.onFeedback("voice");
    const snap = metrics.snapshot();
    const { html } = await admin.page("/learning");
    assert.doesNotMatch(html, /nicht verfügbar/);
    assert.match(html, /data-testid="m-feedback"><span class="v">2</);
    assert.match(html, /data-testid="m-selections"><span class="v">4</);
    const share = new Intl.NumberFormat("de-DE", { style: "percent", maximumFractionDigits: 1 })
      .format(snap.explorationShare);
    assert.ok(html.includes(`data-testid="m-exploration"><span class="v">${share}<`), share);
    assert.match(html, /data-testid="m-blacklisted"><span class="v">1</);
    assert.deepEqual(snap.blacklisted, ["v2a"]);
    assert.equal((await admin.post("/learning", { op: "reenable", variant: "v2a" })).status, 303);
    assert.deepEqual(metrics.snapshot().blacklisted, [], "the blacklisted gauge follows the store");
    const [d] = decisionsOf(store, { limit: 1 });
    assert.match(
      d.reason,
      /^Wieder freigegeben \(vorher: Mean reward -1\.000 below -0\.2 after 20 rewards\)$/,
    );
    const shown = text(
      row(table((await admin.page("/learning")).html, "decisions"), "data-decision", "reenable"),
    );
    assert.match(shown, /Wieder freigegeben \(vorher: Mittlere Belohnung -1,00 liegt unter -0,20 nach 20 /);
  } finally {
    await ui.close();
    store.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test({
  name: "the seeded learning page passes axe-core in Chromium and re-enables a variant by its button",
  ignore: skipBrowser,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const srv = await serve({ islands: false });
    const browser = await launch();
    try {
      await setupAndLogin(srv.t);
      syncVariants(srv.t.store, DEFAULT_VARIANTS);
      seed(srv.t.store, new PolicyBandit(srv.t.store, { baseVariant: "v1a", random: mulberry32(5) }));
      const page = await (await browser.newContext({ locale: "de-DE" })).newPage();
      await page.goto(srv.url + "/login");
      await page.getByLabel("E-Mail-Adresse").fill("admin@praxis.test");
      await page.getByLabel("Passwort").fill(PASSWORD);
      await page.getByRole("button", { name: "Anmelden" }).click();
      await page.waitForURL((u) => u.pathname === "/");
      await page.getByRole("link", { name: "Lernen" }).click();
      await page.waitForURL((u) => u.pathname === "/learning");
      await assertAccessible(page, "learning");
      await shot(page, "learning");
      const row = page.locator('table[data-testid="variants"] tr[data-variant="v2a"]');
      await row.getByLabel("Begründung (freiwillig)").fill("Getestet");
      await row.getByRole("button", { name: "Wieder freigeben" }).click();
      await page.getByText("Die Gesprächsstrategie ist wieder freigegeben.").waitFor();
      await assertAccessible(page, "learning-after-reenable");
      assert.equal(getVariant(srv.t.store, "v2a")?.blacklisted, false);
      assert.equal(decisionsOf(srv.t.store, { limit: 1 })[0].reason, "Getestet");
    } finally {
      await browser.close();
      await srv.close();
    }
  },
});
