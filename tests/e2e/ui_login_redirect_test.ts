// Real Chromium: a login link whose `next` hides another site (a tab or line break the browser drops, a
// backslash it reads as a slash, characters outside Latin-1) must leave the user on a page of TOM after
// logging in: never on the other site, never stuck on the login page, never on an error page. evil.example
// is mapped to a second local server, so a redirect the browser let through would really land there.
import assert from "node:assert/strict";
import { launch, serve, skipBrowser } from "./ui_browser_harness.ts";
import { PASSWORD, setupAndLogin } from "../ui/_harness.ts";

const EMAIL = "admin@praxis.test";

Deno.test({
  name: "after login with a nasty next parameter the browser ends on TOM's own origin",
  ignore: skipBrowser,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const srv = await serve({ islands: false });
    const evil = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      () => new Response("<h1>evil</h1>", { headers: { "content-type": "text/html" } }),
    );
    const evilPort = (evil.addr as Deno.NetAddr).port;
    const browser = await launch([`--host-resolver-rules=MAP evil.example 127.0.0.1:${evilPort}`]);
    try {
      await setupAndLogin(srv.t, { email: EMAIL });
      const origin = new URL(srv.url).origin;
      for (
        const next of ["/%09/evil.example/", "/%09%5Cevil.example/", "/%0D%0A/evil.example/", "/%E2%82%AC"]
      ) {
        const context = await browser.newContext({ locale: "de-DE" });
        const page = await context.newPage();
        const failures: string[] = [];
        page.on("response", (r) => {
          if (r.status() >= 500) failures.push(`${r.status()} ${r.url()}`);
        });
        await page.goto(`${srv.url}/login?next=${next}`);
        await page.getByLabel("E-Mail-Adresse").fill(EMAIL);
        await page.getByLabel("Passwort").fill(PASSWORD);
        await page.getByRole("button", { name: "Anmelden" }).click();
        // Before the fix Chromium's CSP (form-action 'self') blocked the redirect to evil.example: the user
        // stayed on the login page. Now the browser goes on to a page of TOM's.
        await page.waitForURL((u) => u.pathname !== "/login" || u.origin !== origin, { timeout: 10_000 })
          .catch(() => assert.fail(`next=${next}: the browser stayed on ${page.url()}`));
        await page.waitForLoadState("load");
        assert.equal(new URL(page.url()).origin, origin, `next=${next} left TOM: ${page.url()}`);
        assert.deepEqual(failures, [], `next=${next}`);
        await context.close();
      }
    } finally {
      await browser.close();
      await evil.shutdown();
      await srv.close();
    }
  },
});
